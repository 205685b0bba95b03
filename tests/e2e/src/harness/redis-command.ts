/**
 * One Redis command over a fresh connection, in RESP2 (https://redis.io/docs/latest/develop/reference/protocol-spec/),
 * for tests that look at what the apps wrote (live instance keys) or prepare a database. Written here,
 * not taken from the coordination package, so a mistake there cannot hide in the check.
 */
import { connect } from 'node:net';

export type RedisReply = null | number | string | Error | RedisReply[];

/** `redis://host:port[/db]` → where to connect and which database to SELECT. */
export function parseRedisUrl(url: string): { host: string; port: number; db: number } {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379), db };
}

/** `url` with its database index replaced by `db`. */
export function redisUrlWithDb(url: string, db: number): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

function encode(args: readonly string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) parts.push(`$${Buffer.byteLength(a)}\r\n${a}\r\n`);
  return Buffer.from(parts.join(''), 'utf8');
}

/** Parses one reply at `at`; undefined when the buffer does not hold all of it yet. */
function parse(buf: Buffer, at: number): { value: RedisReply; next: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]!);
  const line = buf.toString('utf8', at + 1, eol);
  switch (type) {
    case '+':
      return { value: line, next: eol + 2 };
    case '-':
      return { value: new Error(line), next: eol + 2 };
    case ':':
      return { value: Number(line), next: eol + 2 };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next: eol + 2 };
      if (buf.length < eol + 2 + len + 2) return undefined;
      return { value: buf.toString('utf8', eol + 2, eol + 2 + len), next: eol + 2 + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next: eol + 2 };
      const items: RedisReply[] = [];
      let next = eol + 2;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, next);
        if (item === undefined) return undefined;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

/** Runs `SELECT db` then `args`; resolves with the reply of `args` (a Redis error reply rejects). */
export function redisCommand(url: string, ...args: string[]): Promise<RedisReply> {
  const { host, port, db } = parseRedisUrl(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buf = Buffer.alloc(0);
    const replies: RedisReply[] = [];
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error(`redis ${host}:${port}: no answer to ${args[0]} within 5 s`));
    });
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const r = parse(buf, 0);
        if (r === undefined) break;
        replies.push(r.value);
        buf = buf.subarray(r.next);
      }
      if (replies.length === 2) {
        socket.end();
        const [selected, reply] = replies;
        if (selected instanceof Error) reject(selected);
        else if (reply instanceof Error) reject(reply);
        else resolve(reply!);
      }
    });
    socket.write(Buffer.concat([encode(['SELECT', String(db)]), encode(args)]));
  });
}
