/** A CliIo that records what a run writes, with an environment of the test's choosing. */
import { Readable } from 'node:stream';
import type { CliIo } from './io.js';

export interface CapturedIo extends CliIo {
  readonly out: () => string;
  readonly err: () => string;
}

export interface CaptureOptions {
  env?: Record<string, string | undefined>;
  /** Makes stderr look like a terminal, so progress bars are drawn. */
  stderrIsTTY?: boolean;
  stdin?: string;
  cwd?: string;
}

export function captureIo(options: CaptureOptions = {}): CapturedIo {
  let out = '';
  let err = '';
  return {
    stdout: { write: (chunk: string) => (out += chunk) },
    stderr: { write: (chunk: string) => (err += chunk), isTTY: options.stderrIsTTY === true, columns: 100 },
    stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
    env: { USER: 'tester', ...options.env },
    cwd: options.cwd ?? process.cwd(),
    out: () => out,
    err: () => err,
  };
}
