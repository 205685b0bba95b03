/**
 * One HTTP/1.1 request to a backend over a keep-alive connection pool (undici's Pool, through its
 * callback-level `dispatch`: about half the client cost of node:http's request objects and streams
 * per call, measured on this hop), and its whole answer, with the call's deadline, cancellation and
 * trace context, and the failure classification of backend.ts.
 *
 * Delivery is judged conservatively. A request is `notDelivered` only when no connection could be
 * assigned to it (refused, no route, unknown host, connect timeout: nothing can have been sent). Once
 * the pool handed the request to a connection (`onConnect`), any failure is a lost connection: the
 * server may have read the request and run the model. (A draining Sibyl worker refuses new requests
 * with SIBYL_SERVER_DRAINING and closes the connection before it stops listening, so the keep-alive
 * race does not cost requests in a drain.)
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { InferContext, SibylError } from '@sibyl/protocol';
import type { Dispatcher, Pool } from 'undici';
import { backendCancelled, backendConnectionLost, backendDeadlineExceeded, backendResponseInvalid, backendUnreachable } from './errors.js';
import { markNotDelivered } from './remote-error.js';

/**
 * The header with which a Sibyl REST server takes a deadline: milliseconds from when it reads it.
 * Equal to @sibyl/gateway's TIMEOUT_HEADER (a test holds them together; a package cannot import an app).
 */
export const TIMEOUT_HEADER = 'x-sibyl-timeout-ms';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The whole body. When the answer announced an Inference-Header-Content-Length, the bytes after the header start 8-byte aligned. */
  body: Buffer;
}

export interface HttpExchange {
  /** `http://host:port`, for messages. */
  target: string;
  pool: Pool;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** Sent in order, never joined when large; undefined for no body. */
  chunks?: readonly Buffer[];
  /** Absolute deadline (Date.now() milliseconds) for the whole answer; undefined for none. */
  deadlineMs?: number;
  context?: InferContext;
}

/** Bodies up to this size are joined into one write; larger ones are streamed chunk by chunk. */
const JOIN_BELOW_BYTES = 64 * 1024;

function bodyOf(chunks: readonly Buffer[] | undefined): Buffer | Readable | null {
  if (chunks === undefined || chunks.length === 0) return null;
  if (chunks.length === 1) return chunks[0]!;
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  return total < JOIN_BELOW_BYTES ? Buffer.concat(chunks as Buffer[], total) : Readable.from(chunks, { objectMode: false });
}

export function exchange(x: HttpExchange): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    const signal = x.context?.signal;
    if (signal?.aborted) return reject(backendCancelled(x.target));
    const now = Date.now();
    if (x.deadlineMs !== undefined && x.deadlineMs <= now) {
      return reject(backendDeadlineExceeded(`the request's deadline passed before it was sent to backend ${x.target}`));
    }
    const headers = x.headers;
    if (x.deadlineMs !== undefined) headers[TIMEOUT_HEADER] = String(Math.floor(x.deadlineMs - now));
    const traceparent = x.context?.traceparent;
    if (traceparent !== undefined) headers['traceparent'] = traceparent;

    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let abort: ((err?: Error) => void) | undefined;
    let assigned = false;
    let answer: Reader | undefined;

    const finish = (err: SibylError | undefined, result?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      // The signal may be shared by many calls (one per client connection at the REST edge).
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve(result!);
      else {
        abort?.(err);
        reject(err);
      }
    };
    const onAbort = () => finish(backendCancelled(x.target));

    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        abort = abortRequest;
        assigned = true;
        // Settled while it waited for a connection (deadline, cancel): do not send it now.
        if (settled) abortRequest();
      },
      onHeaders(statusCode, rawHeaders) {
        answer = new Reader(x.target, statusCode, rawHeaders as Buffer[]);
        return true;
      },
      onData(chunk) {
        const fault = answer?.push(chunk);
        if (fault !== undefined) finish(fault);
        return true;
      },
      onComplete() {
        if (answer === undefined) return finish(backendResponseInvalid(x.target, 'the answer ended before its headers'));
        const result = answer.end();
        if ('status' in result) finish(undefined, result);
        else finish(result);
      },
      onError(err: Error & { code?: string }) {
        if (settled) return;
        const why = err.code === undefined ? err.message : `${err.code}: ${err.message}`;
        finish(assigned ? backendConnectionLost(x.target, why) : markNotDelivered(backendUnreachable(x.target, why)));
      },
    };
    if (x.deadlineMs !== undefined) {
      timer = setTimeout(
        () => finish(backendDeadlineExceeded(`no answer from backend ${x.target} before the request's deadline`)),
        x.deadlineMs - now,
      );
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      x.pool.dispatch({ method: x.method, path: x.path, headers, body: bodyOf(x.chunks) }, handler);
    } catch (err) {
      finish(markNotDelivered(backendUnreachable(x.target, (err as Error).message)));
    }
  });
}

/**
 * Collects an answer's body into one buffer. With a Content-Length it is allocated once and filled
 * as data arrives, placed so that the bytes after the JSON header (the binary outputs) start 8-byte
 * aligned and decode as typed-array views rather than copies.
 */
class Reader {
  readonly #target: string;
  readonly #status: number;
  readonly #headers: IncomingHttpHeaders = {};
  readonly #length: number;
  #body: Buffer | undefined;
  #chunks: Buffer[] | undefined;
  #offset = 0;

  constructor(target: string, status: number, raw: Buffer[]) {
    this.#target = target;
    this.#status = status;
    for (let i = 0; i + 1 < raw.length; i += 2) this.#headers[raw[i]!.toString('latin1').toLowerCase()] = raw[i + 1]!.toString('latin1');
    const declared = this.#headers['content-length'];
    this.#length = declared === undefined ? NaN : Number(declared);
    if (!Number.isSafeInteger(this.#length)) {
      this.#chunks = [];
      return;
    }
    const headerLength = Number(this.#headers['inference-header-content-length'] ?? 0);
    const space = Buffer.allocUnsafe(this.#length + 7);
    const pad = Number.isSafeInteger(headerLength) ? (8 - ((space.byteOffset + headerLength) % 8)) % 8 : 0;
    this.#body = space.subarray(pad, pad + this.#length);
  }

  /** Adds a chunk; returns the fault when the body overflows its Content-Length. */
  push(chunk: Buffer): SibylError | undefined {
    if (this.#chunks !== undefined) {
      this.#chunks.push(chunk);
      return undefined;
    }
    if (this.#offset + chunk.length > this.#length) return backendResponseInvalid(this.#target, `the body is longer than its Content-Length ${this.#length}`);
    chunk.copy(this.#body!, this.#offset);
    this.#offset += chunk.length;
    return undefined;
  }

  end(): HttpAnswer | SibylError {
    if (this.#chunks !== undefined) {
      const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      return { status: this.#status, headers: this.#headers, body };
    }
    if (this.#offset !== this.#length) return backendConnectionLost(this.#target, `the answer ended after ${this.#offset} of ${this.#length} bytes`);
    return { status: this.#status, headers: this.#headers, body: this.#body! };
  }
}
