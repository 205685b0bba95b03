import { describe, expect, it } from 'vitest';
import { createProgress, progressLine } from './progress-bar.js';

describe('progress bar', () => {
  it('draws the fraction, the byte counts and the rate', () => {
    const half = progressLine('upload m.onnx', 5 * 1024 * 1024, 10 * 1024 * 1024, 1000, 80);
    expect(half).toBe(`upload m.onnx [${'='.repeat(14)}>${' '.repeat(12)}]  50%  5.0 MiB / 10.0 MiB  5.0 MiB/s`);
    expect(half.length).toBeLessThan(80);
    expect(progressLine('upload m.onnx', 0, 100, 0, 40)).toMatch(/^upload m.onnx \[> {9}\]   0%/);
    expect(progressLine('upload m.onnx', 10, 10, 0, 80)).toBe(`upload m.onnx [${'='.repeat(40)}] 100%  10 B / 10 B`);
  });

  it('draws nothing when stderr is not a terminal', () => {
    let written = '';
    const progress = createProgress({ write: (s: string) => (written += s), isTTY: false }, 'x', 100);
    progress.update(50);
    progress.finish();
    expect(written).toBe('');
  });

  it('redraws in place at most every 100 ms, always at the end, and erases itself', () => {
    let written = '';
    let t = 0;
    const progress = createProgress({ write: (s: string) => (written += s), isTTY: true, columns: 80 }, 'x', 100, () => t);
    progress.update(10);
    t = 50;
    progress.update(20); // too soon: skipped
    t = 150;
    progress.update(30);
    t = 160;
    progress.update(100); // the end: always drawn
    progress.finish();
    const draws = written.split('\r').filter((s) => s !== '');
    expect(draws).toHaveLength(4);
    expect(draws[0]).toContain(' 10%');
    expect(draws[1]).toContain(' 30%');
    expect(draws[2]).toContain('100%');
    expect(draws[3]).toBe('\x1b[K');
  });
});
