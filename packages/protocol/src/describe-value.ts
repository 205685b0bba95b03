/**
 * How error messages show a client's value: short, typed, and never the whole payload (a wrong
 * `data` field may be megabytes long).
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `string "${value.slice(0, 37)}..."` : `string ${JSON.stringify(value)}`;
    case 'number':
      return `number ${String(value)}`;
    case 'bigint':
      return `integer ${value.toString()}`;
    case 'boolean':
      return `boolean ${String(value)}`;
    case 'object':
      return Array.isArray(value) ? `array of ${value.length}` : 'object';
    default:
      return typeof value;
  }
}

/** A shape as clients write it: `[2,4]`. */
export function formatShape(shape: readonly unknown[]): string {
  return `[${shape.join(',')}]`;
}
