/** The table (human) rendering of each kind of answer. `--output json` bypasses all of this. */
import { bytesCell, cell, formatFields, formatTable, labelsCell, truncate } from './table.js';
import type {
  AuditEvent,
  InferResponse,
  InferTensor,
  Model,
  Pool,
  Release,
  Route,
  RouteExplanation,
  RouteMatch,
  Signature,
  Traffic,
  Version,
} from './wire-types.js';

const DESCRIPTION_WIDTH = 40;
/** Infer results: rows (first dimension) and values per row shown before eliding the rest. */
const MAX_ROWS = 20;
const MAX_VALUES_PER_ROW = 10;

export function modelsView(models: readonly Model[]): string {
  if (models.length === 0) return 'No models.\n';
  return formatTable(
    ['NAME', 'PLATFORM', 'LIVE', 'PREVIOUS', 'LABELS', 'UPDATED', 'DESCRIPTION'],
    models.map((m) => [
      m.name,
      cell(m.platform),
      cell(m.live_version),
      cell(m.previous_version),
      labelsCell(m.labels),
      cell(m.updated_at),
      truncate(cell(m.description), DESCRIPTION_WIDTH),
    ]),
  );
}

export function modelView(m: Model): string {
  return formatFields([
    ['Name', m.name],
    ['Tenant', cell(m.tenant)],
    ['Platform', cell(m.platform)],
    ['Algorithm', cell(m.algorithm)],
    ['Description', cell(m.description)],
    ['Labels', labelsCell(m.labels)],
    ['Live version', cell(m.live_version)],
    ['Previous version', cell(m.previous_version)],
    ['Created', cell(m.created_at)],
    ['Updated', cell(m.updated_at)],
  ]);
}

function shortSha(sha: unknown): string {
  return typeof sha === 'string' ? sha.slice(0, 12) : cell(sha);
}

function stateCell(v: Version): string {
  return v.state === 'failed' && v.state_reason ? `failed: ${truncate(v.state_reason, DESCRIPTION_WIDTH)}` : cell(v.state);
}

/** With the model at hand, the RELEASE column marks its live and previous versions. */
export function versionsView(versions: readonly Version[], model?: Model): string {
  if (versions.length === 0) return 'No versions.\n';
  const release = (v: Version) =>
    model === undefined ? '' : v.version === model.live_version ? 'live' : v.version === model.previous_version ? 'previous' : '';
  return formatTable(
    ['VERSION', 'STATE', ...(model === undefined ? [] : ['RELEASE']), 'SIZE', 'SHA256', 'FILENAME', 'CREATED BY', 'CREATED'],
    versions.map((v) => [
      cell(v.version),
      stateCell(v),
      ...(model === undefined ? [] : [release(v)]),
      bytesCell(v.size),
      shortSha(v.sha256),
      cell(v.filename),
      cell(v.created_by),
      cell(v.created_at),
    ]),
  );
}

export function formatShape(shape: unknown): string {
  return Array.isArray(shape) ? `[${shape.join(',')}]` : cell(shape);
}

export function signatureView(signature: Signature | null | undefined): string {
  const rows = [
    ...(signature?.inputs ?? []).map((t) => ['input', t.name, t.datatype, formatShape(t.shape)]),
    ...(signature?.outputs ?? []).map((t) => ['output', t.name, t.datatype, formatShape(t.shape)]),
  ];
  return rows.length === 0 ? '' : formatTable(['TENSOR', 'NAME', 'DATATYPE', 'SHAPE'], rows);
}

export function versionView(v: Version): string {
  const fields = formatFields([
    ['Model', v.model],
    ['Version', cell(v.version)],
    ['State', cell(v.state)],
    ...(v.state_reason ? [['State reason', v.state_reason] as const] : []),
    ['Format', cell(v.format)],
    ['Platform', cell(v.signature?.platform)],
    ['File', cell(v.filename)],
    ['Size', `${bytesCell(v.size)}${typeof v.size === 'number' && v.size >= 1024 ? ` (${v.size} bytes)` : ''}`],
    ['SHA-256', cell(v.sha256)],
    ['Created by', cell(v.created_by)],
    ['Created', cell(v.created_at)],
  ]);
  const signature = signatureView(v.signature);
  return signature === '' ? fields : `${fields}\n${signature}`;
}

export function releaseView(action: 'deploy' | 'rollback', r: Release): string {
  const verb = action === 'deploy' ? 'deployed' : 'rolled back';
  return `${r.model}: ${verb}; live version ${cell(r.live_version)} (previous ${cell(r.previous_version)})\n`;
}

export function eventsView(events: readonly AuditEvent[]): string {
  if (events.length === 0) return 'No events.\n';
  return formatTable(
    ['ID', 'AT', 'ACTOR', 'ACTION', 'FROM', 'TO', 'DETAIL'],
    events.map((e) => [cell(e.id), cell(e.at), cell(e.actor), cell(e.action), cell(e.from), cell(e.to), cell(e.detail)]),
  );
}

/** Every field of the status answer, in the server's order, since the set grows with the server. */
export function statusView(status: Readonly<Record<string, unknown>>): string {
  return formatFields(Object.entries(status).map(([k, v]) => [k.replaceAll('_', ' '), cell(v)]));
}

function formatValue(datatype: string, value: unknown): string {
  if (typeof value === 'number' && (datatype === 'FP32' || datatype === 'FP16' || datatype === 'BF16' || datatype === 'FP64')) {
    return String(Number(value.toPrecision(6)));
  }
  return typeof value === 'string' ? JSON.stringify(value) : cell(value);
}

function rowText(datatype: string, values: readonly unknown[]): string {
  const shown = values.slice(0, MAX_VALUES_PER_ROW).map((v) => formatValue(datatype, v));
  const more = values.length - shown.length;
  return `[${shown.join(', ')}${more > 0 ? `, … ${more} more` : ''}]`;
}

/** A tensor's data, one line per entry of its first dimension when it has two or more dimensions. */
function tensorData(t: InferTensor): string {
  const flat = Array.isArray(t.data) ? t.data.flat(Infinity) : [];
  const shape = Array.isArray(t.shape) ? t.shape : [];
  const rows = shape.length >= 2 && shape[0]! > 0 ? shape[0]! : 1;
  const perRow = rows === 1 ? flat.length : Math.ceil(flat.length / rows);
  const lines: string[] = [];
  for (let r = 0; r < Math.min(rows, MAX_ROWS); r++) lines.push(rowText(t.datatype, flat.slice(r * perRow, (r + 1) * perRow)));
  if (rows > MAX_ROWS) lines.push(`… ${rows - MAX_ROWS} more rows`);
  return lines.join('\n');
}

export function inferView(res: InferResponse): string {
  const heading = `${res.model_name}${res.model_version ? ` version ${res.model_version}` : ''}\n`;
  const outputs = Array.isArray(res.outputs) ? res.outputs : [];
  return (
    heading +
    formatTable(
      ['OUTPUT', 'DATATYPE', 'SHAPE', 'DATA'],
      outputs.map((t) => [t.name, t.datatype, formatShape(t.shape), tensorData(t)]),
    )
  );
}

// ---- routing -------------------------------------------------------------------------------------

function poolSource(p: Pool): string {
  return p.discovery === true ? 'discovery' : (p.endpoints ?? []).join(',') || '-';
}

export function poolsView(pools: readonly Pool[]): string {
  if (pools.length === 0) return 'No pools.\n';
  return formatTable(
    ['NAME', 'KIND', 'INSTANCES', 'DESCRIPTION'],
    pools.map((p) => [p.name, cell(p.kind), poolSource(p), truncate(cell(p.description), DESCRIPTION_WIDTH)]),
  );
}

export function poolView(p: Pool): string {
  return formatFields([
    ['Name', p.name],
    ['Kind', cell(p.kind)],
    ['Instances', p.discovery === true ? 'discovered (live instances registered under this pool)' : 'fixed endpoints'],
    ['Endpoints', (p.endpoints ?? []).join(', ') || '-'],
    ['Description', cell(p.description)],
    ['Created', cell(p.created_at)],
    ['Updated', cell(p.updated_at)],
  ]);
}

/** `platform=onnxruntime_onnx label:team=vis*`; `*` for a match that takes every version. */
export function matchCell(match: RouteMatch | null | undefined): string {
  const parts: string[] = [];
  for (const field of ['name', 'platform', 'algorithm', 'tenant'] as const) {
    if (match?.[field] !== undefined) parts.push(`${field}=${match[field]}`);
  }
  for (const [k, v] of Object.entries(match?.labels ?? {})) parts.push(`label:${k}=${v}`);
  return parts.length === 0 ? '*' : parts.join(' ');
}

export function routesView(routes: readonly Route[]): string {
  if (routes.length === 0) return 'No routing rules.\n';
  return formatTable(
    ['ID', 'PRIORITY', 'MATCH', 'POOL', 'DESCRIPTION'],
    routes.map((r) => [cell(r.id), cell(r.priority), matchCell(r.match), r.pool, truncate(cell(r.description), DESCRIPTION_WIDTH)]),
  );
}

export function routeView(r: Route): string {
  return formatFields([
    ['ID', cell(r.id)],
    ['Priority', cell(r.priority)],
    ['Match', matchCell(r.match)],
    ['Pool', r.pool],
    ['Description', cell(r.description)],
    ['Created', cell(r.created_at)],
    ['Updated', cell(r.updated_at)],
  ]);
}

/** The verdict first, then every rule in the order tried with its reasons, one per line. */
export function explanationView(e: RouteExplanation): string {
  const verdict =
    e.route === null
      ? `${e.model} version ${e.version}: no routing rule matches; it cannot be served\n`
      : `${e.model} version ${e.version}: pool ${e.pool} (rule ${e.route.id}, priority ${e.route.priority})\n`;
  if (e.rules.length === 0) return verdict;
  return (
    verdict +
    '\n' +
    formatTable(
      ['RULE', 'PRIORITY', 'POOL', 'MATCHES', 'WHY'],
      e.rules.map((r) => [cell(r.route.id), cell(r.route.priority), r.route.pool, r.matched ? 'yes' : 'no', r.reasons.join('\n')]),
    )
  );
}

export function trafficView(t: Traffic): string {
  const percent = (w: number) => `${Number((w * 100).toPrecision(6))}%`;
  return formatFields([
    ['Model', t.model],
    ['Live version', cell(t.live_version)],
    ['Canary version', t.canary_version === null ? '-' : `${t.canary_version} (${percent(t.canary_weight)} of requests without a version)`],
    ['Shadow version', t.shadow_version === null ? '-' : `${t.shadow_version} (a copy of each request without a version)`],
  ]);
}
