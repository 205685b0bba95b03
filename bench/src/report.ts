/** Renders a run as the markdown in bench/results/latest.md. */
import type { BenchResults, Verdict } from './results.js';
import { LARGE_LABEL, TARGET_LABEL } from './results.js';

/** A cell where the rest of the machine used more than this share of all cores is marked busy. */
const BUSY_SHARE = 0.15;

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const us = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const ms = (usValue: number) => (Number.isFinite(usValue) ? (usValue / 1000).toFixed(2) : '-');

function verdictText(v: Verdict): string {
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
  for (const [name, s] of Object.entries(r.servers)) {
    if ('skipped' in s) lines.push('', `> ${name} skipped: ${s.skipped}`);
    if ('error' in s) lines.push('', `> ${name} failed to start: ${s.error.split('\n')[0]}`);
  }

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
    lines.push(`| ${v.description} | ${valueText(v)} | ${v.comparison} ${v.threshold}${v.unit === 'x' ? 'x' : ` ${v.unit}`} | ${verdictText(v)} | ${v.detail} |`);
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
