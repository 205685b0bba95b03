/** The CLI as a library: `run` is what the `sibyl` command executes, exposed for tests and embedding. */
export { run, cliVersion } from './run.js';
export type { CliIo, OutputStream } from './io.js';
export { CliError, EXIT_CODES, isCliError, type CliErrorCode } from './cli-error.js';
