/**
 * What a run of the CLI may touch outside itself. `main.ts` passes the process's own; tests pass
 * captured streams and their own environment, so a run never reads the real process state.
 */

export interface OutputStream {
  write(chunk: string): unknown;
  /** True for a terminal: progress bars are drawn only then. */
  readonly isTTY?: boolean;
  /** Terminal width in characters, when known. */
  readonly columns?: number;
}

export interface CliIo {
  /** Results: tables or the server's JSON. */
  readonly stdout: OutputStream;
  /** Errors, progress and summaries. */
  readonly stderr: OutputStream;
  /** Read by `--json -`. */
  readonly stdin: AsyncIterable<Uint8Array | string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative file arguments resolve against this directory. */
  readonly cwd: string;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}
