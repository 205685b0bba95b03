/**
 * The one error type of the platform.
 *
 * Every failure a client can see is a SibylError with a stable `code` (callers match on it, it never
 * changes once published) and a `category` that fixes its HTTP and gRPC status. Each package declares
 * its own errors with `defineError`; the transports map categories through the two exhaustive tables
 * below, so adding a category without a status is a compile error.
 */

export type ErrorCategory =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'UNIMPLEMENTED'
  | 'INTERNAL';

/** HTTP status per category (DESIGN.md §5). */
export const HTTP_STATUS: Readonly<Record<ErrorCategory, number>> = Object.freeze({
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RESOURCE_EXHAUSTED: 429,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
});

/** gRPC status code numbers (grpc/doc/statuscodes.md), named so this package needs no gRPC library. */
export const GrpcCode = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
});

/** gRPC status per category (DESIGN.md §5). */
export const GRPC_STATUS: Readonly<Record<ErrorCategory, number>> = Object.freeze({
  INVALID_ARGUMENT: GrpcCode.INVALID_ARGUMENT,
  UNAUTHENTICATED: GrpcCode.UNAUTHENTICATED,
  PERMISSION_DENIED: GrpcCode.PERMISSION_DENIED,
  NOT_FOUND: GrpcCode.NOT_FOUND,
  CONFLICT: GrpcCode.ALREADY_EXISTS,
  PAYLOAD_TOO_LARGE: GrpcCode.RESOURCE_EXHAUSTED,
  RESOURCE_EXHAUSTED: GrpcCode.RESOURCE_EXHAUSTED,
  UNAVAILABLE: GrpcCode.UNAVAILABLE,
  DEADLINE_EXCEEDED: GrpcCode.DEADLINE_EXCEEDED,
  UNIMPLEMENTED: GrpcCode.UNIMPLEMENTED,
  INTERNAL: GrpcCode.INTERNAL,
});

export interface SibylErrorOptions {
  cause?: unknown;
  /** Seconds a client should wait before retrying (sent as Retry-After). */
  retryAfterSeconds?: number;
}

export class SibylError extends Error {
  override readonly name = 'SibylError';
  readonly code: string;
  readonly category: ErrorCategory;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: string, category: ErrorCategory, message: string, options: SibylErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.category = category;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.category];
  }

  get grpcCode(): number {
    return GRPC_STATUS[this.category];
  }
}

export function isSibylError(err: unknown): err is SibylError {
  return err instanceof SibylError;
}

export interface ErrorDefinition {
  readonly code: string;
  readonly category: ErrorCategory;
  /** One line for docs/api.md: when this error happens. */
  readonly description: string;
}

/** Every error defined by any package, by code: the docs test checks each one is documented. */
export const ERROR_DEFINITIONS = new Map<string, ErrorDefinition>();

export type ErrorFactory<A extends unknown[]> = ((...args: A) => SibylError) & ErrorDefinition;

/**
 * Declares one coded error. `format` builds the message from the call's arguments; messages say what
 * was wrong and with which tensor or field.
 */
export function defineError<A extends unknown[]>(
  code: string,
  category: ErrorCategory,
  description: string,
  format: (...args: A) => string,
): ErrorFactory<A> {
  if (ERROR_DEFINITIONS.has(code)) throw new Error(`error code ${code} is defined twice`);
  const definition: ErrorDefinition = Object.freeze({ code, category, description });
  ERROR_DEFINITIONS.set(code, definition);
  const factory = (...args: A) => new SibylError(code, category, format(...args));
  return Object.assign(factory, definition);
}

/** Wraps anything thrown that is not a SibylError; transports call this once, at the edge, and log it. */
export function toSibylError(err: unknown): SibylError {
  if (err instanceof SibylError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SibylError('SIBYL_INTERNAL', 'INTERNAL', `internal error: ${message}`, { cause: err });
}
