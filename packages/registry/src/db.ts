/**
 * One thin database interface over PostgreSQL (`pg` pool) and embedded PGlite, so the registry runs
 * the same SQL on both. It is deliberately small: parameterised queries, multi-statement scripts (for
 * migrations), one transaction at a time per call, and LISTEN. NOTIFY is plain SQL
 * (`SELECT pg_notify(...)`) inside a transaction, so it is sent only if that transaction commits.
 *
 * Values cross it as the drivers give them, with one difference callers must absorb: `bigint`
 * columns arrive as strings from `pg` and as numbers (or bigint) from PGlite; use `Number(...)`.
 * Pass JSON parameters as text (`$1::text::jsonb` with `JSON.stringify(value)`): `pg` would turn a JS
 * array into a Postgres array.
 */
export interface QueryResult<T> {
  rows: T[];
  /** Rows returned or affected. */
  rowCount: number;
}

/** What a transaction body (and the Db itself) can run. */
export interface Queryable {
  /** One statement, with `$1`, `$2`... parameters. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface ListenOptions {
  /**
   * Called after the listening connection was lost and re-established: notifications sent in between
   * are gone, so a listener should refresh everything it caches. Only PostgreSQL connections drop;
   * PGlite is embedded (in process, or on a thread of this process) and never calls this.
   */
  onReconnect?: () => void;
}

export type DbKind = 'postgres' | 'pglite';

export interface Db extends Queryable {
  readonly kind: DbKind;
  /**
   * Runs `fn` inside BEGIN ... COMMIT on one connection; any error thrown rolls back and is rethrown.
   * Inside `fn` use only `tx`: on PGlite, calling the Db itself from inside waits for the transaction
   * to end, which never happens. Not reentrant.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to NOTIFY on `channel` (lower-case letters, digits, `_`). Resolves once LISTEN is
   * active, to a function that unsubscribes.
   */
  listen(channel: string, handler: (payload: string) => void, options?: ListenOptions): Promise<() => Promise<void>>;
  /** Ends every connection (and stops listening). Idempotent. */
  close(): Promise<void>;
}

const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** What a listener threw: a process warning, never an exception on the connection or thread that delivered it. */
export function reportListenerError(err: unknown): void {
  process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'SibylRegistryListener');
}

export function assertChannelName(channel: string): void {
  if (!CHANNEL_NAME.test(channel)) throw new Error(`invalid NOTIFY channel name '${channel}'`);
}
