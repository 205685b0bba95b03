/**
 * A one-line progress bar for byte counts, redrawn in place on a terminal. On anything else (a pipe,
 * a CI log) it draws nothing: callers print one summary line when done instead.
 */
import type { OutputStream } from './io.js';
import { bytesCell } from './table.js';

export interface Progress {
  /** Bytes done so far (not an increment). */
  update(done: number): void;
  /** Erases the bar, leaving the cursor at the start of an empty line. */
  finish(): void;
}

/** Redraws at most this often, so a fast local upload does not flood the terminal. */
const REDRAW_INTERVAL_MS = 100;
const MAX_BAR_WIDTH = 40;
const MIN_BAR_WIDTH = 10;

export const NO_PROGRESS: Progress = Object.freeze({ update() {}, finish() {} });

export function progressLine(label: string, done: number, total: number, elapsedMs: number, columns: number): string {
  const fraction = total <= 0 ? 1 : Math.min(1, done / total);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const rate = elapsedMs > 0 ? `${bytesCell((done / elapsedMs) * 1000)}/s` : '';
  const tail = ` ${percent}  ${bytesCell(done)} / ${bytesCell(total)}  ${rate}`.trimEnd();
  const width = Math.max(MIN_BAR_WIDTH, Math.min(MAX_BAR_WIDTH, columns - label.length - tail.length - 4));
  const filled = Math.round(fraction * width);
  const bar = filled >= width ? '='.repeat(width) : `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}`;
  return `${label} [${bar}]${tail}`;
}

export function createProgress(stream: OutputStream, label: string, total: number, now: () => number = () => performance.now()): Progress {
  if (stream.isTTY !== true) return NO_PROGRESS;
  const start = now();
  let lastDraw = -Infinity;
  let drawn = false;
  const draw = (done: number) => {
    // A pseudo-terminal may report 0 columns: take that as unknown.
    const line = progressLine(label, done, total, now() - start, stream.columns || 80);
    stream.write(`\r${line}\x1b[K`);
    drawn = true;
  };
  return {
    update(done) {
      const t = now();
      if (t - lastDraw < REDRAW_INTERVAL_MS && done < total) return;
      lastDraw = t;
      draw(done);
    },
    finish() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
