/**
 * The InferContext of one gRPC call (or one ModelStreamInfer stream): the call's deadline, the
 * caller's W3C `traceparent` and `x-sibyl-routing-key` metadata, and an abort signal that fires when
 * the call is cancelled (by the client, or by grpc-js when the deadline passes).
 */
import type { Deadline, Metadata } from '@grpc/grpc-js';
import { EdgeContext, ROUTING_KEY_HEADER } from './edge-context.js';

/** What every grpc-js server call (unary or streaming) offers. */
export interface GrpcCall {
  readonly cancelled: boolean;
  readonly metadata: Metadata;
  getDeadline(): Deadline;
  on(event: 'cancelled', listener: () => void): unknown;
}

export function grpcInferContext(call: GrpcCall): EdgeContext {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : undefined;
  const traceparent = call.metadata.get('traceparent')[0];
  const routingKey = call.metadata.get(ROUTING_KEY_HEADER)[0];
  // Per call, not per connection: gRPC cancels single calls (and their deadlines) on a live connection.
  return new EdgeContext(
    deadlineMs,
    typeof traceparent === 'string' ? traceparent : undefined,
    () => {
      const controller = new AbortController();
      if (call.cancelled) controller.abort();
      else call.on('cancelled', () => controller.abort());
      return controller.signal;
    },
    typeof routingKey === 'string' && routingKey !== '' ? routingKey : undefined,
  );
}
