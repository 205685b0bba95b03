/**
 * A small HTTP client for Sibyl's JSON APIs (management and inference): builds URLs, sends the actor
 * on changes, and turns every failure into a CliError. Error answers are `{"error": "<message>"}`; the
 * message is shown as the server wrote it.
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, codeForStatus, isCliError } from './cli-error.js';

export interface ApiResponse {
  readonly status: number;
  /** The body exactly as received (what `--output json` prints). Empty for 204. */
  readonly text: string;
  /** The body parsed, or undefined when empty. */
  readonly body: unknown;
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | undefined>>;
  /** Sent as application/json. */
  readonly json?: unknown;
  /** JSON already serialised, sent byte for byte (a request file may hold integers beyond 2^53). */
  readonly jsonText?: string;
  /** A raw body, streamed; `contentLength` lets the server refuse an oversized upload before it arrives. */
  readonly stream?: Readable;
  readonly contentLength?: number;
  readonly contentType?: string;
}

export interface ApiClient {
  readonly baseUrl: string;
  request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options?: RequestOptions): Promise<ApiResponse>;
}

export interface ApiClientOptions {
  /** What the API is called in messages: "management API". */
  readonly label: string;
  readonly baseUrl: string;
  /** How the user picks another URL, for the "cannot reach" message: "--url or SIBYL_URL". */
  readonly hint: string;
  /** Sent as x-sibyl-actor on POST, PUT, PATCH and DELETE, for the audit log; absent for APIs that keep none. */
  readonly actor?: string;
}

interface Reply {
  readonly status: number;
  readonly statusText: string;
  readonly text: string;
}

export const ACTOR_HEADER = 'x-sibyl-actor';

/** Builds a path whose interpolated parts are URL-encoded: route`/v1/models/${name}`. */
export function route(strings: TemplateStringsArray, ...parts: (string | number)[]): string {
  return strings.reduce((out, s, i) => out + s + (i < parts.length ? encodeURIComponent(String(parts[i])) : ''), '');
}

/** The innermost reason of a failed fetch: `ECONNREFUSED`, `ENOTFOUND`, or a message. */
function networkReason(err: unknown): string {
  let cause: unknown = err;
  while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
  // Happy eyeballs (localhost as ::1 and 127.0.0.1) fails with every attempt's error.
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code !== undefined && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}

function findCliError(err: unknown): CliError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (isCliError(e)) return e;
  return undefined;
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function viaFetch(url: URL, method: string, headers: Record<string, string>, body: string | undefined): Promise<Reply> {
  const res = await fetch(url, { method, headers, body });
  return { status: res.status, statusText: res.statusText, text: await res.text() };
}

/**
 * Streams `body` with node:http rather than fetch: Node 20's fetch does not wait for the socket to
 * drain, so a fast disk and a slower server would pile the whole file up in memory. node:http with
 * `pipeline` keeps a few chunks in flight.
 *
 * The server may answer before it has read the whole body (404, 413, a checksum it refuses): the
 * answer wins, and the rest of the body is not sent.
 */
function viaHttp(url: URL, method: string, headers: OutgoingHttpHeaders, body: Readable): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method, headers }, (res: IncomingMessage) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf8') });
        if (!req.writableFinished) req.destroy();
      });
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    pipeline(body, req).catch((err: unknown) => {
      // The body's own failure (unreadable file, a file that changed size) is the user's to see;
      // a failed socket write surfaces as the request's error, or loses to an early answer.
      if (isCliError(err) || body.errored !== null) {
        req.destroy();
        reject(isCliError(err) ? err : body.errored);
      }
    });
  });
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  return {
    baseUrl: base,
    async request(method, path, req = {}) {
      const url = new URL(base + path);
      for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
      const headers: Record<string, string> = { accept: 'application/json' };
      if (method !== 'GET' && options.actor !== undefined) headers[ACTOR_HEADER] = options.actor;
      let reply: Reply;
      try {
        if (req.stream !== undefined) {
          headers['content-type'] = req.contentType ?? 'application/octet-stream';
          if (req.contentLength !== undefined) headers['content-length'] = String(req.contentLength);
          reply = await viaHttp(url, method, headers, req.stream);
        } else {
          const hasJson = req.json !== undefined || req.jsonText !== undefined;
          if (hasJson) headers['content-type'] = 'application/json';
          reply = await viaFetch(url, method, headers, hasJson ? (req.jsonText ?? JSON.stringify(req.json)) : undefined);
        }
      } catch (err) {
        const own = findCliError(err);
        if (own !== undefined) throw own;
        const code = (err as NodeJS.ErrnoException).code;
        if (req.stream !== undefined && (code === 'EPIPE' || code === 'ECONNRESET')) {
          // A server that answers early and closes at once can have its answer lost to the reset.
          throw new CliError(
            'SERVER',
            `the ${options.label} at ${base} closed the connection during the upload (${networkReason(err)}); it may have refused the file, e.g. as larger than its upload limit`,
            { cause: err },
          );
        }
        throw new CliError(
          'UNREACHABLE',
          `cannot reach the ${options.label} at ${base} (${networkReason(err)}); is the server running there? (${options.hint} picks another)`,
          { cause: err },
        );
      }
      const { status, statusText, text } = reply;
      const parsed = parseBody(text);
      if (status < 200 || status > 299) {
        const message =
          typeof parsed === 'object' && parsed !== null && typeof (parsed as { error?: unknown }).error === 'string'
            ? (parsed as { error: string }).error
            : `${method} ${url.href} answered HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
        throw new CliError(codeForStatus(status), message, { status });
      }
      if (text !== '' && parsed === undefined) {
        throw new CliError('SERVER', `${method} ${url.href} answered HTTP ${status} with a body that is not JSON`, { status });
      }
      return { status, text, body: parsed };
    },
  };
}
