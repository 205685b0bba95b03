/**
 * Scratch state for the split topology on shared servers: a PostgreSQL database created for the run
 * and dropped after it, and a Redis database index nobody is using (the router has no key prefix
 * setting, so a database of its own is what keeps two clusters apart). Nothing shared is flushed.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import pg from 'pg';

/** `url` pointing at database `name` on the same server, with the same credentials. */
export function databaseUrlFor(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** `url` with its Redis database index replaced by `db`. */
export function redisUrlWithDb(url: string, db: number): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** A URL for a report: the password, if any, replaced by `***`. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password !== '') u.password = '***';
  return u.toString();
}

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin(databaseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** CREATE DATABASE sibyl_bench_<random> on DATABASE_URL's server; drop() removes it with its sessions. */
export async function createScratchDatabase(databaseUrl: string): Promise<ScratchDatabase> {
  const name = `sibyl_bench_${randomBytes(6).toString('hex')}`;
  await admin(databaseUrl, `CREATE DATABASE "${name}"`);
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: databaseUrlFor(databaseUrl, name),
    drop: () => (dropped ??= admin(databaseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  };
}

/**
 * Reads the integer replies of a RESP2 stream (`+OK`, `:<n>`, `-ERR ...`); undefined until `count`
 * replies are complete. Only what DBSIZE after SELECT answers: bulk strings and arrays are refused.
 */
export function parseIntegerReplies(text: string, count: number): Array<number | string> | undefined {
  const replies: Array<number | string> = [];
  let at = 0;
  while (replies.length < count) {
    const eol = text.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const type = text[at];
    const line = text.slice(at + 1, eol);
    if (type === '+') replies.push(line);
    else if (type === ':') replies.push(Number(line));
    else if (type === '-') throw new Error(`redis: ${line}`);
    else throw new Error(`redis: unexpected reply ${JSON.stringify(text.slice(at, eol))}`);
    at = eol + 2;
  }
  return replies;
}

/** DBSIZE of database `db` on the server at `url`, over a connection of its own. */
export function redisDbSize(url: string, db: number): Promise<number> {
  const u = new URL(url);
  const command = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  const auth = u.password !== '' ? command('AUTH', ...(u.username !== '' ? [decodeURIComponent(u.username)] : []), decodeURIComponent(u.password)) : '';
  const expected = auth === '' ? 2 : 3;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
    let text = '';
    const done = (err: Error | null, value?: number) => {
      socket.destroy();
      if (err !== null) reject(err);
      else resolve(value!);
    };
    socket.setTimeout(5000, () => done(new Error(`redis ${u.host}: no answer within 5 s`)));
    socket.once('error', (err) => done(err));
    socket.once('connect', () => socket.write(`${auth}${command('SELECT', String(db))}${command('DBSIZE')}`));
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      try {
        const replies = parseIntegerReplies(text, expected);
        if (replies !== undefined) done(null, replies.at(-1) as number);
      } catch (err) {
        done(err as Error);
      }
    });
  });
}

/**
 * A Redis database index from 1 to 15 that holds no keys (0 is the one people use by hand), tried in
 * random order; its URL. Throws when every one is in use.
 */
export async function pickEmptyRedisDb(redisUrl: string): Promise<{ db: number; url: string }> {
  const order = Array.from({ length: 15 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
  for (const db of order) {
    if ((await redisDbSize(redisUrl, db)) === 0) return { db, url: redisUrlWithDb(redisUrl, db) };
  }
  throw new Error(`every Redis database 1..15 on ${redactUrl(redisUrl)} holds keys; the bench flushes nothing shared, so it needs an empty one`);
}
