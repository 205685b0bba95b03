import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT, exampleFiles, read } from './chart.js';

const doc = read(`${ROOT}docs/operations.md`);

/** Metric names declared in the apps' and packages' sources, as `name: '...'` or `counter('...'`. */
function declaredMetrics(): Set<string> {
  const out = execFileSync('grep', ['-rhoE', `'(nv|sibyl)_[a-z0-9_]+'`, `${ROOT}packages`, `${ROOT}apps`, '--include=*.ts'], { encoding: 'utf8' });
  return new Set(out.split('\n').filter(Boolean).map((quoted) => quoted.slice(1, -1)));
}

describe('docs/operations.md', () => {
  it('cites only metrics the code declares', () => {
    const declared = declaredMetrics();
    const cited = new Set([...doc.matchAll(/\b((?:nv|sibyl)_[a-z0-9_]+)\b/g)].map((m) => m[1]!));
    expect(cited.size).toBeGreaterThan(5);
    expect([...cited].filter((name) => !declared.has(name))).toEqual([]);
  });

  it('names every example values file of the chart', () => {
    for (const file of exampleFiles()) expect(doc).toContain(`examples/${file}`);
  });

  it('covers sizing, draining, the degraded modes and the local cluster', () => {
    for (const needed of ['placement_replicas', 'modelCacheBytes', '--exit-timeout-secs', 'sibyl_coordination_up', 'npm run start:cluster', 'Redis', 'PostgreSQL']) {
      expect(doc).toContain(needed);
    }
  });

  it('is written without "you"', () => {
    expect(doc).not.toMatch(/\byou(r|rs|rself)?\b/i);
  });
});
