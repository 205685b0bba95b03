/**
 * ModelStreamInfer (Triton's bidirectional stream): every request is answered, in the order the
 * requests arrived, with `infer_response`, or with `error_message` when it failed; a failed request
 * never ends the stream. The stream ends with OK once the client half-closes and every answer is
 * written.
 *
 * Requests run concurrently (a client may pipeline), answers are written in order. Flow control:
 * reading pauses while MAX_IN_FLIGHT requests of the stream are unanswered or the client is not
 * reading its answers, so one stream cannot queue unbounded work or memory.
 */
import { performance } from 'node:perf_hooks';
import type { handleBidiStreamingCall } from '@grpc/grpc-js';
import { grpcInferContext } from './grpc-context.js';
import { edgeError } from './grpc-errors.js';
import { inferMessage, type GrpcHandlerDeps } from './grpc-infer.js';
import type { ModelInferRequestMessage, ModelStreamInferResponse } from './grpc-messages.js';

/** Unanswered requests per stream before reading pauses. */
export const MAX_IN_FLIGHT = 64;

export function createModelStreamInfer(
  deps: GrpcHandlerDeps,
): handleBidiStreamingCall<ModelInferRequestMessage, ModelStreamInferResponse> {
  const { service, logger, metrics } = deps;

  return (call) => {
    // One context for the stream: its deadline, its traceparent, its cancellation.
    const context = grpcInferContext(call);
    let tail: Promise<void> = Promise.resolve();
    let inFlight = 0;
    let waitingForDrain = false;
    let paused = false;

    const updateFlow = () => {
      const pause = inFlight >= MAX_IN_FLIGHT || waitingForDrain;
      if (pause === paused) return;
      paused = pause;
      if (pause) call.pause();
      else call.resume();
    };

    const answer = async (message: ModelInferRequestMessage): Promise<ModelStreamInferResponse> => {
      try {
        return { infer_response: await inferMessage(service, message, context) };
      } catch (error) {
        return { error_message: edgeError(error, logger, call, 'ModelStreamInfer').message };
      }
    };

    call.on('data', (message: ModelInferRequestMessage) => {
      const started = metrics === undefined ? 0 : performance.now();
      const pending = answer(message);
      inFlight++;
      updateFlow();
      tail = tail
        .then(() => pending)
        .then((reply) => {
          inFlight--;
          if (!call.cancelled && !call.write(reply)) {
            waitingForDrain = true;
            call.once('drain', () => {
              waitingForDrain = false;
              updateFlow();
            });
          }
          metrics?.observeTransport('grpc', (performance.now() - started) / 1000);
          updateFlow();
        });
    });

    call.on('end', () => {
      void tail.then(() => {
        if (!call.cancelled) call.end();
      });
    });

    // grpc-js reports transport failures here and ends the call itself; without a listener the
    // emitter would throw.
    call.on('error', (err: Error) => {
      logger.debug({ err, rpc: 'ModelStreamInfer' }, 'gRPC stream error');
    });
  };
}
