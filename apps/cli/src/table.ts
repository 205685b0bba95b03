/**
 * Plain-text layout for people: aligned columns and aligned `Field: value` lists. Scripts use
 * `--output json` instead, so nothing here is a stable format.
 */

/** One cell: null and absent as `-`, objects as compact JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/** `{a: "1", b: "2"}` as `a=1,b=2`; `-` when empty. */
export function labelsCell(labels: unknown): string {
  if (typeof labels !== 'object' || labels === null) return cell(labels);
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return pairs.length === 0 ? '-' : pairs.join(',');
}

/** Bytes in binary units with one decimal: `27.0 MiB`. */
export function bytesCell(size: unknown): string {
  if (typeof size !== 'number' || !Number.isFinite(size)) return cell(size);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${size} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Cuts a long cell to `max` characters, ending in an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * Columns padded to their widest cell, two spaces apart; the last column is not padded. A cell with
 * line breaks continues on the following lines, the other columns blank there.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines: string[][] = [];
  for (const row of [headers, ...rows]) {
    const split = headers.map((_, i) => (row[i] ?? '').split('\n'));
    const height = Math.max(...split.map((parts) => parts.length));
    for (let line = 0; line < height; line++) lines.push(split.map((parts) => parts[line] ?? ''));
  }
  const widths = headers.map((_, i) => Math.max(...lines.map((line) => (line[i] ?? '').length)));
  return lines
    .map((line) =>
      line
        .map((text, i) => (i === line.length - 1 ? text : text.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** `Label:  value` lines, values aligned. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length + 1));
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`.trimEnd()).join('\n').concat('\n');
}
