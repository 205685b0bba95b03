/**
 * Db over a real PostgreSQL server: a `pg` pool for queries and transactions, plus one dedicated
 * connection for LISTEN (a pooled connection cannot hold a subscription). The listening connection
 * reconnects by itself with backoff and then tells each listener to resync, since NOTIFYs sent
 * while it was down are lost.
 *
 * Connection failures become SIBYL_REGISTRY_UNAVAILABLE (503); SQL errors pass through unchanged
 * (they are bugs, and the edge reports them as INTERNAL).
 */
import pg from 'pg';
import type { Notification, PoolClient } from 'pg';
import { isSibylError } from '@sibyl/protocol';
import { assertChannelName, reportListenerError, type Db, type ListenOptions, type Queryable, type QueryResult } from './db.js';
import { databaseUnavailable } from './errors.js';

const APPLICATION_NAME = 'sibyl-registry';
/** application_name of the LISTEN connection, so operators (and tests) can find it in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'sibyl-registry-listener';
const CONNECT_TIMEOUT_MS = 10_000;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

const NETWORK_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

/** True for errors that mean "the server is not there", as opposed to "this SQL is wrong". */
function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    // SQLSTATE class 08 (connection exception), 57P01-57P03 (shutdown, cannot connect now), 53300 (too many connections).
    return code.startsWith('08') || /^57P0[1-3]$/.test(code) || code === '53300' || NETWORK_ERRNOS.has(code);
  }
  return /^Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(err.message);
}

function mapError(err: unknown): unknown {
  if (isSibylError(err) || !isConnectionError(err)) return err;
  const wrapped = databaseUnavailable((err as Error).message);
  return Object.assign(wrapped, { cause: err });
}

async function mapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw mapError(err);
  }
}

function toResult<T>(res: pg.QueryResult): QueryResult<T> {
  return { rows: res.rows as T[], rowCount: res.rowCount ?? res.rows.length };
}

function queryable(target: pg.Pool | PoolClient): Queryable {
  return {
    query: <T>(sql: string, params: readonly unknown[] = []) =>
      mapped(async () => toResult<T>(await target.query(sql, [...params]))),
    exec: (sql: string) => mapped(async () => void (await target.query(sql))),
  };
}

interface Listener {
  handler: (payload: string) => void;
  onReconnect: (() => void) | undefined;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The one LISTEN connection: subscriptions by channel, reconnect with backoff. */
class ListenConnection {
  readonly #url: string;
  readonly #channels = new Map<string, { listeners: Set<Listener>; ready: Promise<void> }>();
  #connection: Promise<pg.Client> | undefined;
  #client: pg.Client | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(url: string) {
    this.#url = url;
  }

  async listen(channel: string, listener: Listener): Promise<() => Promise<void>> {
    if (this.#closed) throw new Error('the registry database is closed');
    let entry = this.#channels.get(channel);
    if (entry === undefined) {
      const ready = this.#ensure().then((client) => mapped(async () => void (await client.query(`LISTEN ${quoteIdent(channel)}`))));
      entry = { listeners: new Set(), ready };
      this.#channels.set(channel, entry);
      ready.catch(() => {
        if (this.#channels.get(channel) === entry) this.#channels.delete(channel);
      });
    }
    entry.listeners.add(listener);
    try {
      await entry.ready;
    } catch (err) {
      entry.listeners.delete(listener);
      throw err;
    }
    const subscribed = entry;
    return async () => {
      if (!subscribed.listeners.delete(listener) || subscribed.listeners.size > 0) return;
      if (this.#channels.get(channel) === subscribed) this.#channels.delete(channel);
      const client = this.#client;
      if (client !== undefined && !this.#closed) await client.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => {});
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#channels.clear();
    const connection = this.#connection;
    this.#connection = undefined;
    this.#client = undefined;
    const client = await connection?.catch(() => undefined);
    await client?.end().catch(() => {});
  }

  #ensure(): Promise<pg.Client> {
    if (this.#connection === undefined) {
      const connection = this.#connect();
      this.#connection = connection;
      connection.catch(() => {
        if (this.#connection === connection) this.#connection = undefined;
      });
    }
    return this.#connection;
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.#url,
      application_name: LISTENER_APPLICATION_NAME,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
    });
    client.on('notification', (msg: Notification) => this.#deliver(msg));
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    try {
      await mapped(() => client.connect());
      // A reconnect subscribes again to every channel that still has listeners.
      for (const channel of this.#channels.keys()) await mapped(() => client.query(`LISTEN ${quoteIdent(channel)}`));
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      throw new Error('the registry database is closed');
    }
    this.#client = client;
    return client;
  }

  #deliver(msg: Notification): void {
    const entry = this.#channels.get(msg.channel);
    if (entry === undefined) return;
    for (const listener of entry.listeners) {
      try {
        listener.handler(msg.payload ?? '');
      } catch (err) {
        reportListenerError(err);
      }
    }
  }

  #lost(client: pg.Client): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = undefined;
    this.#connection = undefined;
    client.end().catch(() => {});
    this.#reconnect(0);
  }

  #reconnect(attempt: number): void {
    if (this.#closed || this.#channels.size === 0) return;
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
    this.#retry = setTimeout(() => {
      this.#ensure().then(
        () => {
          for (const entry of this.#channels.values()) {
            for (const listener of entry.listeners) {
              try {
                listener.onReconnect?.();
              } catch (err) {
                reportListenerError(err);
              }
            }
          }
        },
        () => this.#reconnect(attempt + 1),
      );
    }, delay);
    // A process that has nothing else to do should not be kept alive by a reconnect attempt.
    this.#retry.unref();
  }
}

export async function openPostgresDb(url: string, options: { poolSize: number }): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize,
    application_name: APPLICATION_NAME,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
  });
  // An idle pooled connection that dies (server restart, network) is dropped by the pool and the
  // next query opens a new one; without this handler the 'error' event would crash the process.
  pool.on('error', () => {});
  const listener = new ListenConnection(url);
  const direct = queryable(pool);
  let closing: Promise<void> | undefined;

  try {
    await direct.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }

  return {
    kind: 'postgres',
    query: direct.query,
    exec: direct.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await mapped(() => pool.connect());
      let broken: Error | undefined;
      try {
        await mapped(() => client.query('BEGIN'));
        const result = await fn(queryable(client));
        await mapped(() => client.query('COMMIT'));
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          // The connection is unusable (or lost): release(err) destroys it instead of pooling it.
          broken = rollbackError;
        });
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async listen(channel: string, handler: (payload: string) => void, opts: ListenOptions = {}) {
      assertChannelName(channel);
      return listener.listen(channel, { handler, onReconnect: opts.onReconnect });
    },
    close() {
      closing ??= (async () => {
        await listener.close();
        await pool.end();
      })();
      return closing;
    },
  };
}
