/**
 * The InferContext of one REST request: a deadline from `x-sibyl-timeout-ms` (milliseconds, counted
 * from when the handler reads the header; HTTP has no deadline of its own), the caller's W3C
 * `traceparent`, its `x-sibyl-routing-key` (which side of a traffic split it takes), and an abort
 * signal that fires when the client's connection closes.
 *
 * The signal belongs to the connection, not the request: an HTTP/1.1 client goes away by closing its
 * connection, which abandons every request on it, and one signal per keep-alive connection spares
 * each request the cost of its own (edge-context.ts). Services must therefore remove any abort
 * listener they add once their request settles, as they should for any shared signal. (The request's
 * own 'close' event cannot serve: on Node 20 it fires as soon as the body has been read.)
 */
import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { EdgeContext, ROUTING_KEY_HEADER } from './edge-context.js';
import { timeoutHeaderInvalid } from './errors.js';

export const TIMEOUT_HEADER = 'x-sibyl-timeout-ms';

const DECIMAL = /^[0-9]{1,15}$/;

const connectionSignals = new WeakMap<Socket, AbortSignal>();

/** The signal of a connection, aborted when it closes; created on first use, one per connection. */
export function connectionSignal(socket: Socket): AbortSignal {
  let signal = connectionSignals.get(socket);
  if (signal === undefined) {
    if (socket.destroyed) return AbortSignal.abort();
    const controller = new AbortController();
    signal = controller.signal;
    connectionSignals.set(socket, signal);
    socket.once('close', () => controller.abort());
  }
  return signal;
}

export function restInferContext(request: FastifyRequest): EdgeContext {
  const headers = request.headers;
  const timeout = headers[TIMEOUT_HEADER];
  let deadlineMs: number | undefined;
  if (timeout !== undefined) {
    const value = Array.isArray(timeout) ? timeout.join(', ') : timeout;
    if (!DECIMAL.test(value)) throw timeoutHeaderInvalid(value);
    deadlineMs = Date.now() + Number(value);
  }
  const traceparent = headers.traceparent;
  const routingKey = headers[ROUTING_KEY_HEADER];
  const socket = request.raw.socket;
  return new EdgeContext(
    deadlineMs,
    typeof traceparent === 'string' ? traceparent : undefined,
    () => connectionSignal(socket),
    typeof routingKey === 'string' && routingKey !== '' ? routingKey : undefined,
  );
}
