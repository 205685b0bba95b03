/** Messages between the registry's PGlite thread (pglite-thread.ts) and the Db that drives it (pglite-thread-db.ts). */

/** An error as it crosses threads: its message, its name and its plain fields (SQLSTATE `code`, `detail`...). */
export interface WireError {
  name: string;
  message: string;
  fields: Record<string, string | number | boolean>;
}

/** `tx`: the id of the `begin` that opened the transaction the statement runs in; none outside one. */
export type ToThread =
  | { id: number; op: 'query'; sql: string; params: unknown[]; tx?: number }
  | { id: number; op: 'exec'; sql: string; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'listen'; channel: string }
  | { id: number; op: 'unlisten'; listener: number }
  | { id: number; op: 'close' };

export type FromThread =
  | { kind: 'ready' }
  | { kind: 'failed'; error: WireError }
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; error: WireError }
  /** A NOTIFY for the `listen` whose id is `listener`. */
  | { kind: 'notify'; listener: number; payload: string };

export interface ThreadInit {
  dataDir: string;
  /** Create the database cluster (initdb), close it, and end: no statements are taken. */
  initOnly?: boolean;
}

export function toWireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(err)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
  }
  return { name: err.name, message: err.message, fields };
}

/** The error again, on this side, with this side's stack. */
export function fromWireError(wire: WireError): Error {
  const err = new Error(wire.message);
  if (wire.name !== 'Error') err.name = wire.name;
  return Object.assign(err, wire.fields);
}
