/**
 * The CLI's one error type. Every failure carries a stable `code`; the exit status is derived from the
 * code through one exhaustive table, so a new code without an exit status is a compile error.
 * Scripts rely on the exit statuses: they are part of the CLI's contract (documented in --help).
 */

export type CliErrorCode =
  /** Unknown command or option, missing or malformed argument: the usage line is printed too. */
  | 'USAGE'
  /** A local input the user named cannot be used: unreadable file, JSON that does not parse, a tensor that does not fit. */
  | 'INPUT'
  /** The server answered 404: unknown model or version. */
  | 'NOT_FOUND'
  /** The server answered 409: e.g. deleting a live model, rollback with nothing to roll back to. */
  | 'CONFLICT'
  /** Any other error answer (400, 413, 500, 503, ...) or an answer the CLI cannot read. */
  | 'SERVER'
  /** No answer at all: connection refused, unknown host, reset. */
  | 'UNREACHABLE';

/** Exit status per code: 0 is success; 1 server error or unreachable; 2 usage; 3 not found; 4 conflict. */
export const EXIT_CODES: Readonly<Record<CliErrorCode, number>> = Object.freeze({
  USAGE: 2,
  INPUT: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  SERVER: 1,
  UNREACHABLE: 1,
});

export interface CliErrorOptions {
  /** The usage line of the command that was misused; printed after the message. */
  usage?: string;
  /** HTTP status of the server's answer, when there was one. */
  status?: number;
  cause?: unknown;
}

export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;
  readonly usage: string | undefined;
  readonly status: number | undefined;

  constructor(code: CliErrorCode, message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.usage = options.usage;
    this.status = options.status;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function isCliError(err: unknown): err is CliError {
  return err instanceof CliError;
}

export function usageError(message: string, usage: string): CliError {
  return new CliError('USAGE', message, { usage });
}

export function inputError(message: string, cause?: unknown): CliError {
  return new CliError('INPUT', message, { cause });
}

/** The code for an HTTP error status: only 404 and 409 have exit statuses of their own. */
export function codeForStatus(status: number): CliErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  return 'SERVER';
}
