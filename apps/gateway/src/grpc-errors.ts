/**
 * How the gRPC edge reports a failure: a gRPC status whose code comes from the error's category
 * (packages/protocol/src/sibyl-error.ts) and whose details are the error's message. This is the one
 * place gRPC turns anything that is not a SibylError into INTERNAL, and logs it with the request id
 * (the caller's `x-request-id` metadata when sent).
 */
import { randomUUID } from 'node:crypto';
import { Metadata, type StatusObject } from '@grpc/grpc-js';
import type { Logger } from '@sibyl/observability';
import { toSibylError, type SibylError } from '@sibyl/protocol';
import type { GrpcCall } from './grpc-context.js';

/** Converts once, logging what became (or already was) INTERNAL. */
export function edgeError(error: unknown, logger: Logger, call: GrpcCall, rpc: string): SibylError {
  const err = toSibylError(error);
  if (err.category === 'INTERNAL') {
    const given = call.metadata.get('x-request-id')[0];
    const reqId = typeof given === 'string' ? given : randomUUID();
    logger.error({ reqId, rpc, err: error }, 'gRPC request failed');
  }
  return err;
}

/** The stable error code travels in the `sibyl-error-code` trailer, beside the status and message. */
export function grpcStatus(err: SibylError): Partial<StatusObject> {
  const trailers = new Metadata();
  trailers.set('sibyl-error-code', err.code);
  if (err.retryAfterSeconds !== undefined) trailers.set('retry-after', String(Math.ceil(err.retryAfterSeconds)));
  return { code: err.grpcCode, details: err.message, metadata: trailers };
}
