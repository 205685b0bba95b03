/** Renders a run as the markdown in bench/results/latest.md. */
import type { BenchResults, Verdict } from './results.js';
import { LARGE_LABEL, splitCpuText, TARGET_LABEL } from './results.js';
import { TF_LABEL, type BatchingSection, type ChurnSection, type TfSection } from './sections.js';

/** A cell where the rest of the machine used more than this share of all cores is marked busy. */
const BUSY_SHARE = 0.15;

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const us = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const ms = (usValue: number) => (Number.isFinite(usValue) ? (usValue / 1000).toFixed(2) : '-');

function verdictText(v: Verdict): string {
  if (v.threshold === null) return v.value === null ? 'not measured' : 'reported';
  if (v.pass === null) return 'not measured';
  return v.pass ? '**PASS**' : '**FAIL**';
}

function valueText(v: Verdict): string {
  if (v.value === null) return '-';
  return v.unit === 'x' ? `${v.value.toFixed(3)}x` : `${v.value} ${v.unit}`;
}

export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push(`# Sibyl bench: ${r.name}`, '');
  lines.push(
    `${m.date} · ${m.cpuModel} · ${m.cores} cores · ${m.memoryGiB} GiB · ${m.platform} · Node ${m.node} · onnxruntime-node ${m.packages['onnxruntime-node']} · ` +
      `load average ${m.loadAverage.join(' / ')} at start, ${r.loadAverageEnd.join(' / ')} at end · commit ${m.gitCommit?.slice(0, 12) ?? 'unknown'}${m.gitDirty === true ? ' (uncommitted changes)' : ''}`,
  );
  lines.push('');
  lines.push(
    `${r.config.quick ? 'Quick mode. ' : ''}${r.config.seconds} s measured after ${r.config.warmupSeconds} s warm-up per cell, ` +
      `${r.config.rounds} round${r.config.rounds > 1 ? 's (median shown)' : ''}; iris model ${r.models.iris.source === 'examples' ? 'from examples/models' : 'built stand-in (examples/models/iris missing)'}, ` +
      `identity model ${r.models.identity.source === 'examples' ? 'from examples/models' : 'built stand-in (examples/models/identity missing)'}; total ${Math.round(r.totalSeconds)} s.`,
  );
  if (r.serverNodeFlags !== undefined && r.serverNodeFlags.length > 0) {
    lines.push('', `Every Sibyl process ran with the Node.js flags of \`npm start\` and the image: \`node ${r.serverNodeFlags.join(' ')}\`; the yardsticks on Node's defaults.`);
  }
  for (const [name, s] of Object.entries(r.servers)) {
    if ('skipped' in s) lines.push('', `> ${name} skipped: ${s.skipped}`);
    if ('error' in s) lines.push('', `> ${name} failed to start: ${s.error.split('\n')[0]}`);
  }
  if (r.split !== undefined && 'skipped' in r.split) lines.push('', `> split topology skipped: ${r.split.skipped}`);
  if (r.split !== undefined && 'error' in r.split) lines.push('', `> split topology not measured: ${r.split.error.split('\n')[0]}`);

  const measured = r.iris.flatMap((c) => c.rounds).filter((x) => x.cpu !== undefined);
  const busy = measured.filter((x) => x.cpu!.otherShare > BUSY_SHARE).length;
  if (busy > 0) {
    lines.push(
      '',
      `> ${busy} of ${measured.length} iris runs shared the machine with other work (more than ${BUSY_SHARE * 100}% of all cores; ` +
        'see "other load"): their req/s and tail latencies are low and noisy. Server CPU per request is the steadier figure; rerun on a quiet machine for the targets.',
    );
  }

  lines.push('', '## Targets', '', '| target | measured | threshold | result | detail |', '| --- | --- | --- | --- | --- |');
  for (const v of r.verdicts) {
    const threshold = v.comparison === null || v.threshold === null ? '(none)' : `${v.comparison} ${v.threshold}${v.unit === 'x' ? 'x' : ` ${v.unit}`}`;
    lines.push(`| ${v.description} | ${valueText(v)} | ${threshold} | ${verdictText(v)} | ${v.detail} |`);
  }

  lines.push(
    '',
    '## Iris, batch 1',
    '',
    '| target | concurrency | req/s | p50 (us) | p99 (us) | p99.9 (us) | server CPU (us/req) | other load | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  const concurrencies = [...new Set(r.iris.map((c) => c.concurrency))];
  for (const c of concurrencies) {
    for (const cell of r.iris.filter((x) => x.concurrency === c)) {
      const label = TARGET_LABEL[cell.target];
      if (cell.result === null) {
        lines.push(`| ${label} | ${c} | ${cell.skipped !== undefined ? 'skipped' : 'error'} | | | | | | ${(cell.error ?? cell.skipped ?? '').split('\n')[0]} |`);
        continue;
      }
      const x = cell.result;
      const errors = x.errors === 0 ? '0' : `${x.errors}: ${x.firstError ?? ''}`;
      const serverCpu = x.cpu?.serverUsPerRequest == null ? '-' : us(x.cpu.serverUsPerRequest);
      const other = x.cpu === undefined ? '-' : `${Math.round(x.cpu.otherShare * 100)}%${x.cpu.otherShare > BUSY_SHARE ? ' (busy)' : ''}`;
      lines.push(`| ${label} | ${c} | ${int(x.requestsPerSecond)} | ${us(x.latency.p50Us)} | ${us(x.latency.p99Us)} | ${us(x.latency.p999Us)} | ${serverCpu} | ${other} | ${errors} |`);
    }
  }

  const hopRows = r.iris.filter((c) => (c.target === 'split-json' || c.target === 'split-binary' || c.target === 'proxy-json') && c.result !== null);
  if (hopRows.length > 0) {
    lines.push('', '## One hop more: split topology and a bare proxy', '');
    if (r.split !== undefined && 'ran' in r.split) lines.push(`(f) and (g) send the requests of (c) and (d) to the split gateway: ${r.split.ran}.`);
    lines.push('(h) sends the request of (b) through `src/proxy-server.ts`, a bare node:http reverse proxy (keep-alive agent, whole bodies): the floor of one extra hop.', '');
    lines.push('| target | concurrency | server CPU (us/req): sum (each process) | without the hop: server CPU (us/req) |', '| --- | ---: | --- | ---: |');
    const without = { 'split-json': 'sibyl-json', 'split-binary': 'sibyl-binary', 'proxy-json': 'baseline' } as const;
    for (const c of hopRows) {
      const direct = r.iris.find((x) => x.concurrency === c.concurrency && x.target === without[c.target as keyof typeof without])?.result;
      const directCpu = direct?.cpu?.serverUsPerRequest == null ? '-' : `${us(direct.cpu.serverUsPerRequest)} ${TARGET_LABEL[without[c.target as keyof typeof without]].split(' ')[0]}`;
      const cpu = c.target === 'proxy-json' ? splitCpuText(c.result!, 'proxy', 'service') : splitCpuText(c.result!);
      lines.push(`| ${TARGET_LABEL[c.target]} | ${c.concurrency} | ${cpu ?? '-'} | ${directCpu} |`);
    }
  }

  if (r.large.length > 0) {
    const n = r.large.find((l) => l.result !== null)?.result?.completed ?? r.config.largeRequests;
    lines.push('', `## 16 MiB FP32 tensor through the identity model (${n} sequential requests)`, '');
    lines.push('| target | p50 (ms) | p99 (ms) | min (ms) | max (ms) | MiB/s each way | byte-exact |', '| --- | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const l of r.large) {
      const label = LARGE_LABEL[l.target];
      if (l.result === null) {
        lines.push(`| ${label} | ${l.skipped !== undefined ? 'skipped' : 'error'} | | | | | ${(l.error ?? l.skipped ?? '').split('\n')[0]} |`);
        continue;
      }
      const x = l.result;
      const mibps = x.latency.p50Us > 0 ? (16 / (x.latency.p50Us / 1e6)).toFixed(0) : '-';
      const exact = x.errors === 0 && x.checkedOk === x.checked ? `yes (${x.checkedOk}/${x.checked})` : `NO: ${x.firstError ?? `${x.checkedOk}/${x.checked}`}`;
      lines.push(`| ${label} | ${ms(x.latency.p50Us)} | ${ms(x.latency.p99Us)} | ${ms(x.latency.minUs)} | ${ms(x.latency.maxUs)} | ${mibps} | ${exact} |`);
    }
  }

  if (r.wrk.length > 0) {
    lines.push('', '## wrk cross-check (REST JSON; C client, so the server gets more of the CPU)', '');
    lines.push('| target | connections | req/s | p50 (us) | p99 (us) | errors |', '| --- | ---: | ---: | ---: | ---: | --- |');
    for (const w of r.wrk) {
      const errors = w.error ?? (w.non2xx + w.socketErrors === 0 ? '0' : `${w.non2xx} non-2xx, ${w.socketErrors} socket`);
      lines.push(`| ${TARGET_LABEL[w.target]} | ${w.connections} | ${int(w.requestsPerSecond)} | ${w.p50Us === null ? '-' : us(w.p50Us)} | ${w.p99Us === null ? '-' : us(w.p99Us)} | ${errors} |`);
    }
    const base = r.wrk.filter((w) => w.target === 'baseline');
    for (const b of base) {
      const s = r.wrk.find((w) => w.target === 'sibyl-json' && w.connections === b.connections);
      if (s !== undefined && b.requestsPerSecond > 0) {
        lines.push('', `wrk ratio at ${b.connections} connections: Sibyl REST JSON / one-model service = ${(s.requestsPerSecond / b.requestsPerSecond).toFixed(3)}x (informational; the targets use the Node generator).`);
      }
    }
  }

  lines.push(...batchingMarkdown(r.batching), ...tfMarkdown(r.tf), ...tfMarkdown(r.tfMlp), ...churnMarkdown(r.churn));

  lines.push(
    '',
    'Latency is measured by the client, from sending a request to holding the whole response, in a process of its own. ' +
      'req/s counts responses completed in the measured span. Server CPU is the server process\'s CPU time (all threads) per request ' +
      '(the generator\'s own for in-process session.run); other load is the share of all cores used by everything else during the span, ' +
      `marked busy above ${BUSY_SHARE * 100}%. See bench/README.md.`,
    '',
  );
  return lines.join('\n');
}

function errorsText(x: { errors: number; firstError?: string }): string {
  return x.errors === 0 ? '0' : `${x.errors}: ${x.firstError ?? ''}`;
}

export function batchingMarkdown(s: BatchingSection | undefined): string[] {
  if (s === undefined) return [];
  const lines = ['', '## Dynamic batching', ''];
  if (s.skipped !== undefined) return [...lines, `Skipped: ${s.skipped}.`];
  const d = s.dynamicBatching;
  lines.push(
    `${s.model.description}, max_batch_size ${s.model.maxBatchSize}; served by the all-in-one as two models from one repository, without and with ` +
      `\`dynamic_batching { preferred_batch_size: [${d.preferred_batch_size.join(', ')}], max_queue_delay_microseconds: ${d.max_queue_delay_microseconds} }\`; ` +
      `batch-1 REST binary requests at concurrency ${s.concurrency}. Executions, mean batch, compute and queue time are the server's own counters over the cell ` +
      '(warm-up included); compute per request is the compute time of the batch the request ran in.',
  );
  if (s.inProcess !== undefined) lines.push('', `In-process session.run of the same model (median): batch 1 ${s.inProcess.batch1Us} us, batch ${s.model.maxBatchSize} ${s.inProcess.batch64Us} us.`);
  if (s.error !== undefined) lines.push('', `> not measured: ${s.error.split('\n')[0]}`);
  if (s.cells.length === 0) return lines;
  lines.push(
    '',
    '| dynamic batching | model | req/s | p50 (us) | p99 (us) | p99.9 (us) | executions | mean batch | compute (us/req) | queue (us/req) | server CPU (us/req) | other load | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const c of s.cells) {
    const x = c.result;
    const m = c.metrics ?? null;
    if (x === null) {
      lines.push(`| ${c.variant} | ${c.model} | error | | | | | | | | | | ${(c.error ?? '').split('\n')[0]} |`);
      continue;
    }
    lines.push(
      `| ${c.variant} | ${c.model} | ${int(x.requestsPerSecond)} | ${us(x.latency.p50Us)} | ${us(x.latency.p99Us)} | ${us(x.latency.p999Us)} | ` +
        `${m === null ? '-' : int(m.executions)} | ${m === null ? '-' : m.meanBatch} | ${m === null ? '-' : us(m.computeUsPerRequest)} | ${m === null ? '-' : us(m.queueUsPerRequest)} | ` +
        `${x.cpu?.serverUsPerRequest == null ? '-' : us(x.cpu.serverUsPerRequest)} | ${otherLoad(x)} | ${c.error !== undefined ? c.error.split('\n')[0] : errorsText(x)} |`,
    );
  }
  return lines;
}

function otherLoad(x: { cpu?: { otherShare: number } }): string {
  return x.cpu === undefined ? '-' : `${Math.round(x.cpu.otherShare * 100)}%${x.cpu.otherShare > BUSY_SHARE ? ' (busy)' : ''}`;
}

export function tfMarkdown(s: TfSection | undefined): string[] {
  if (s === undefined) return [];
  const lines = ['', `## TensorFlow.js: ${s.model}, one row per request, concurrency ${s.concurrency}`, ''];
  if (s.description !== undefined) lines.push(`${s.model}: ${s.description}.`, '');
  if (s.skipped !== undefined) return [...lines, `Skipped: ${s.skipped}.`];
  lines.push(
    'Raw predict and the runtime run in the load generator\'s own process (their CPU is the generator\'s); the worker is its own process, ' +
      `driven over REST JSON by a separate generator${s.workerBackend !== undefined ? `; its model threads run on ${s.workerBackend}` : ''}. ` +
      "Every answer is checked against raw predict's.",
    '',
    '| target | req/s | p50 (us) | p99 (us) | CPU (us/req) | other load | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const c of s.cells) {
    const x = c.result;
    if (x === null) {
      lines.push(`| ${TF_LABEL[c.target]} | ${c.skipped !== undefined ? 'skipped' : 'error'} | | | | | ${(c.error ?? c.skipped ?? '').split('\n')[0]} |`);
      continue;
    }
    lines.push(
      `| ${TF_LABEL[c.target]} | ${int(x.requestsPerSecond)} | ${us(x.latency.p50Us)} | ${us(x.latency.p99Us)} | ${x.cpu?.serverUsPerRequest == null ? '-' : us(x.cpu.serverUsPerRequest)} | ${otherLoad(x)} | ` +
        `${c.error !== undefined ? c.error.split('\n')[0] : errorsText(x)} |`,
    );
  }
  return lines;
}

export function churnMarkdown(s: ChurnSection | undefined): string[] {
  if (s === undefined) return [];
  const lines = ['', `## Cache churn: ${s.models} models, a budget for ${s.fit}, Zipf s=${s.zipfS}, concurrency ${s.concurrency}`, ''];
  if (s.skipped !== undefined) return [...lines, `Skipped: ${s.skipped}.`];
  const mib = (b: number | null | undefined) => (b == null ? '-' : (b / 2 ** 20).toFixed(1));
  lines.push(
    `One ONNX worker, REST JSON straight to it, each request for a model picked by a Zipf law; management serves the model files. ` +
      `A model is charged ${mib(s.chargePerModelBytes)} MiB here (calibrated; the first one ${mib(s.firstChargeBytes)} MiB, onnxruntime's start-up included), so --model-cache-bytes is ${mib(s.budgetBytes)} MiB. ` +
      `A cache that always held the ${s.fit} most requested models would hit ${s.idealHitRate}.`,
  );
  if (s.error !== undefined) lines.push('', `> not measured: ${s.error.split('\n')[0]}`);
  const x = s.result;
  if (x === null) return lines;
  const c = s.cache;
  lines.push(
    '',
    '| req/s | p50 (us) | p99 (us) | p99.9 (us) | hit rate | misses (requests that waited for a load) | evictions | resident at end | MiB at end | server CPU (us/req) | other load | errors |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    `| ${int(x.requestsPerSecond)} | ${us(x.latency.p50Us)} | ${us(x.latency.p99Us)} | ${us(x.latency.p999Us)} | ${c?.hitRate ?? '-'} | ${c?.misses ?? '-'} | ${c?.evictions ?? '-'} | ` +
      `${c?.modelsAtEnd ?? '-'} | ${mib(c?.bytesAtEnd)} | ${x.cpu?.serverUsPerRequest == null ? '-' : us(x.cpu.serverUsPerRequest)} | ${otherLoad(x)} | ${errorsText(x)} |`,
  );
  if (c?.missWaitP50Us !== undefined || s.sessionCreateUs !== undefined) {
    lines.push(
      '',
      `A miss waited p50 ${c?.missWaitP50Us ?? '-'} us, p99 ${c?.missWaitP99Us ?? '-'} us (the worker's sibyl_model_cache_miss_wait_seconds over the cell, interpolated in its buckets); ` +
        `onnxruntime's InferenceSession.create of one such model takes p50 ${s.sessionCreateUs?.p50 ?? '-'} us, p99 ${s.sessionCreateUs?.p99 ?? '-'} us in-process. ` +
        `The cache charged at most ${mib(c?.peakBytes)} MiB (sibyl_model_cache_peak_bytes) of its ${mib(s.budgetBytes)} MiB budget.`,
    );
  }
  return lines;
}
