/**
 * How a failure at a backend becomes the SibylError the gateway passes on (backend.ts states the
 * contract), and which failures are `notDelivered`: safe to retry on another instance because the
 * model cannot have run.
 */
import { ERROR_DEFINITIONS, GrpcCode, SibylError, type ErrorCategory } from '@sibyl/protocol';
import { ANSWERED_WITHOUT_CODE } from './errors.js';

/**
 * Codes with which a backend says it did not hand the request to a model, so another instance may
 * take it: the runtime's SIBYL_MODEL_NOT_READY (model loading, failed to load, or the server shutting
 * down). Only these, and only with category UNAVAILABLE: SIBYL_DEADLINE_EXCEEDED and
 * SIBYL_REQUEST_CANCELLED did not run either, but retrying them elsewhere is pointless.
 */
export const NOT_READY_CODES: ReadonlySet<string> = new Set(['SIBYL_MODEL_NOT_READY', 'SIBYL_SERVER_DRAINING']);

const undelivered = new WeakSet<SibylError>();

/**
 * True only for a failure before the request could reach the model: no connection could be made, the
 * connection was reset before a byte of the request was written, or the backend answered that it is
 * not ready. The caller may then retry on another instance without running the model twice.
 */
export function notDelivered(err: unknown): boolean {
  return err instanceof SibylError && undelivered.has(err);
}

export function markNotDelivered(err: SibylError): SibylError {
  undelivered.add(err);
  return err;
}

export interface AnsweredError {
  /** The category the transport's status stands for. */
  category: ErrorCategory;
  /** The backend's stable code, when it sent one. */
  code: string | undefined;
  message: string;
  retryAfterSeconds: number | undefined;
  /** Whether a category gives the status that was received (so a known code may keep its own category). */
  statusOf: (category: ErrorCategory) => boolean;
}

/**
 * An error the backend answered. Its code is kept; a code this process knows keeps its own category
 * when that gives the same status (HTTP 429 and gRPC RESOURCE_EXHAUSTED each stand for more than one
 * category), else the category comes from the status.
 */
export function rebuildAnswered(answer: AnsweredError): SibylError {
  const { code, message } = answer;
  const options = answer.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: answer.retryAfterSeconds };
  if (code === undefined) {
    const factory = ANSWERED_WITHOUT_CODE[answer.category];
    return new SibylError(factory.code, factory.category, message, options);
  }
  const known = ERROR_DEFINITIONS.get(code)?.category;
  const category = known !== undefined && answer.statusOf(known) ? known : answer.category;
  const err = new SibylError(code, category, message, options);
  return category === 'UNAVAILABLE' && NOT_READY_CODES.has(code) ? markNotDelivered(err) : err;
}

/** The category of an HTTP error status (DESIGN.md §5; Triton answers 400 for anything else it refuses). */
export function categoryOfHttpStatus(status: number): ErrorCategory {
  switch (status) {
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 408:
    case 504:
      return 'DEADLINE_EXCEEDED';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 501:
      return 'UNIMPLEMENTED';
    case 502:
    case 503:
      return 'UNAVAILABLE';
    default:
      return status >= 400 && status < 500 ? 'INVALID_ARGUMENT' : 'INTERNAL';
  }
}

/** The category of a gRPC status code (spec §C.8). */
export function categoryOfGrpcCode(code: number): ErrorCategory {
  switch (code) {
    case GrpcCode.INVALID_ARGUMENT:
    case GrpcCode.FAILED_PRECONDITION:
    case GrpcCode.OUT_OF_RANGE:
      return 'INVALID_ARGUMENT';
    case GrpcCode.UNAUTHENTICATED:
      return 'UNAUTHENTICATED';
    case GrpcCode.PERMISSION_DENIED:
      return 'PERMISSION_DENIED';
    case GrpcCode.NOT_FOUND:
      return 'NOT_FOUND';
    case GrpcCode.ALREADY_EXISTS:
      return 'CONFLICT';
    case GrpcCode.RESOURCE_EXHAUSTED:
      return 'RESOURCE_EXHAUSTED';
    case GrpcCode.UNAVAILABLE:
    case GrpcCode.ABORTED:
    case GrpcCode.CANCELLED:
      return 'UNAVAILABLE';
    case GrpcCode.DEADLINE_EXCEEDED:
      return 'DEADLINE_EXCEEDED';
    case GrpcCode.UNIMPLEMENTED:
      return 'UNIMPLEMENTED';
    default:
      return 'INTERNAL';
  }
}

/** Seconds from a Retry-After value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when neither. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** A stable code as Sibyl writes them; anything else a backend sends in its place is ignored. */
export function codeOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Z][A-Z0-9_]{0,127}$/.test(value) ? value : undefined;
}
