/**
 * The backends' coded errors: failures of the hop to a backend, and the codes given to errors a
 * backend answered without one (Triton sends only `{"error": "..."}` or a bare gRPC status).
 *
 * An error the backend answered with a code keeps that code (backend.ts); these are for the rest.
 */
import { defineError, type ErrorCategory, type ErrorFactory } from '@sibyl/protocol';

// ---- the hop itself -----------------------------------------------------------------------------

export const backendUnreachable = defineError(
  'SIBYL_BACKEND_UNREACHABLE',
  'UNAVAILABLE',
  'No connection to the backend could be made (refused, no route, unknown host), so the request was not sent; it may be retried on another instance.',
  (target: string, why: string) => `backend ${target} is unreachable: ${why}; the request was not sent`,
);

export const backendConnectionLost = defineError(
  'SIBYL_BACKEND_CONNECTION_LOST',
  'UNAVAILABLE',
  'The connection to the backend failed after the request was sent and before the whole answer arrived; the model may have run.',
  (target: string, why: string) => `connection to backend ${target} lost before its answer: ${why}`,
);

export const backendCancelled = defineError(
  'SIBYL_BACKEND_CANCELLED',
  'UNAVAILABLE',
  'The caller went away (its signal aborted) while the request was with the backend; the call to the backend was cancelled.',
  (target: string) => `request to backend ${target} cancelled by the caller`,
);

export const backendResponseInvalid = defineError(
  'SIBYL_BACKEND_RESPONSE_INVALID',
  'INTERNAL',
  'The backend answered something that is not a valid v2 response (malformed JSON, a binary body that does not match its header, a wrong content type).',
  (target: string, why: string) => `backend ${target} sent an invalid response: ${why}`,
);

export const backendAddressInvalid = defineError(
  'SIBYL_BACKEND_ADDRESS_INVALID',
  'INTERNAL',
  'A backend address is not `http://host:port` or `grpc://host:port`: a fault in the routing configuration or the instance registry, not in the request.',
  (address: string) => `backend address '${address}' is invalid: expected http://host:port or grpc://host:port`,
);

// ---- answered errors without a code -------------------------------------------------------------
// The message of each is the backend's own.

export const backendInvalidArgument = defineError(
  'SIBYL_BACKEND_INVALID_ARGUMENT',
  'INVALID_ARGUMENT',
  'The backend answered HTTP 400 (or another 4xx without a category of its own) or gRPC INVALID_ARGUMENT, FAILED_PRECONDITION or OUT_OF_RANGE without a Sibyl error code.',
  (message: string) => message,
);

export const backendUnauthenticated = defineError(
  'SIBYL_BACKEND_UNAUTHENTICATED',
  'UNAUTHENTICATED',
  'The backend answered HTTP 401 or gRPC UNAUTHENTICATED without a Sibyl error code.',
  (message: string) => message,
);

export const backendPermissionDenied = defineError(
  'SIBYL_BACKEND_PERMISSION_DENIED',
  'PERMISSION_DENIED',
  'The backend answered HTTP 403 or gRPC PERMISSION_DENIED without a Sibyl error code.',
  (message: string) => message,
);

export const backendNotFound = defineError(
  'SIBYL_BACKEND_NOT_FOUND',
  'NOT_FOUND',
  'The backend answered HTTP 404 or gRPC NOT_FOUND (an unknown model or version on Triton) without a Sibyl error code.',
  (message: string) => message,
);

export const backendConflict = defineError(
  'SIBYL_BACKEND_CONFLICT',
  'CONFLICT',
  'The backend answered HTTP 409 or gRPC ALREADY_EXISTS without a Sibyl error code.',
  (message: string) => message,
);

export const backendPayloadTooLarge = defineError(
  'SIBYL_BACKEND_PAYLOAD_TOO_LARGE',
  'PAYLOAD_TOO_LARGE',
  'The backend answered HTTP 413 without a Sibyl error code.',
  (message: string) => message,
);

export const backendResourceExhausted = defineError(
  'SIBYL_BACKEND_RESOURCE_EXHAUSTED',
  'RESOURCE_EXHAUSTED',
  'The backend answered HTTP 429 or gRPC RESOURCE_EXHAUSTED without a Sibyl error code.',
  (message: string) => message,
);

export const backendUnavailable = defineError(
  'SIBYL_BACKEND_UNAVAILABLE',
  'UNAVAILABLE',
  'The backend answered HTTP 502 or 503, or gRPC UNAVAILABLE, ABORTED or CANCELLED (Triton: queue full, model not ready) without a Sibyl error code.',
  (message: string) => message,
);

export const backendDeadlineExceeded = defineError(
  'SIBYL_BACKEND_DEADLINE_EXCEEDED',
  'DEADLINE_EXCEEDED',
  "The backend answered HTTP 408 or 504 or gRPC DEADLINE_EXCEEDED without a Sibyl error code, or did not answer before the request's deadline (the model may have run).",
  (message: string) => message,
);

export const backendUnimplemented = defineError(
  'SIBYL_BACKEND_UNIMPLEMENTED',
  'UNIMPLEMENTED',
  'The backend answered HTTP 501 or gRPC UNIMPLEMENTED without a Sibyl error code.',
  (message: string) => message,
);

export const backendInternal = defineError(
  'SIBYL_BACKEND_INTERNAL',
  'INTERNAL',
  'The backend answered HTTP 500 or another 5xx, or gRPC INTERNAL, UNKNOWN or DATA_LOSS without a Sibyl error code.',
  (message: string) => message,
);

/** The code of an error answered without one, per category: exhaustive, so a new category without a code is a compile error. */
export const ANSWERED_WITHOUT_CODE: Readonly<Record<ErrorCategory, ErrorFactory<[message: string]>>> = Object.freeze({
  INVALID_ARGUMENT: backendInvalidArgument,
  UNAUTHENTICATED: backendUnauthenticated,
  PERMISSION_DENIED: backendPermissionDenied,
  NOT_FOUND: backendNotFound,
  CONFLICT: backendConflict,
  PAYLOAD_TOO_LARGE: backendPayloadTooLarge,
  RESOURCE_EXHAUSTED: backendResourceExhausted,
  UNAVAILABLE: backendUnavailable,
  DEADLINE_EXCEEDED: backendDeadlineExceeded,
  UNIMPLEMENTED: backendUnimplemented,
  INTERNAL: backendInternal,
});
