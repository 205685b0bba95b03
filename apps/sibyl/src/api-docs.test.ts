import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// Importing each package that declares errors registers its definitions in ERROR_DEFINITIONS.
import { ERROR_DEFINITIONS, HTTP_STATUS, toSibylError, type ErrorCategory } from '@sibyl/protocol';
import '@sibyl/runtime';
import { exportRoutedMetrics, shadowRecorder } from '@sibyl/gateway';
import '@sibyl/backends';
import { createMetrics } from '@sibyl/observability';
import type { RoutedInferenceService } from '@sibyl/routing';
import { SETTINGS } from './config.js';

// docs/api.md is the reference of every error code and metric: these checks keep it and the code in step.
const DOCS = fileURLToPath(new URL('../../../docs/', import.meta.url));
const read = (name: string) => readFileSync(resolve(DOCS, name), 'utf8');
const api = read('api.md');

/** The one code not declared with defineError: what the transports turn any other failure into. */
const INTERNAL_CODE = toSibylError(new Error('probe')).code;

/** Every code declared with `defineError('CODE', 'CATEGORY', ...)` in the sources, with its category. */
const DECLARED = new Map<string, ErrorCategory>();
for (const file of sourceFiles()) {
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/defineError\(\s*['"`](SIBYL_[A-Z0-9_]+)['"`]\s*,\s*['"`]([A-Z_]+)['"`]/g)) {
    DECLARED.set(m[1]!, m[2] as ErrorCategory);
  }
}

/** Every TypeScript source (tests and generated code aside) under packages/*\/src and apps/*\/src. */
function sourceFiles(): string[] {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'generated' && entry.name !== 'node_modules') walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) {
        files.push(path);
      }
    }
  };
  for (const group of ['packages', 'apps']) {
    for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
      const src = join(root, group, entry.name, 'src');
      if (entry.isDirectory() && existsSync(src)) walk(src);
    }
  }
  return files;
}

describe('docs/api.md: errors', () => {
  it('has the section that architecture.md links to', () => {
    expect(api).toMatch(/^## Errors$/m);
  });

  it.each([...ERROR_DEFINITIONS.values()].map((d) => [d.code, d] as const))('documents %s with its category and status', (code, definition) => {
    const row = api.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    expect(row, `no table row for \`${code}\` in docs/api.md`).toBeDefined();
    expect(row).toContain(`${definition.category} (${HTTP_STATUS[definition.category]})`);
  });

  // A package this file does not import registers nothing above: every source is read as well.
  it('finds the declarations in the sources', () => {
    for (const code of ERROR_DEFINITIONS.keys()) expect(DECLARED.has(code), `${code} not found by the source scan`).toBe(true);
  });

  it('documents every code declared with defineError in any package or app, with its category', () => {
    const rows = api.split('\n');
    const wrong = [...DECLARED].filter(([code, category]) => {
      const row = rows.find((line) => line.startsWith(`| \`${code}\` |`));
      return row === undefined || !row.includes(`${category} (${HTTP_STATUS[category]})`);
    });
    expect(wrong.map(([code]) => code)).toEqual([]);
  });

  it(`documents ${INTERNAL_CODE}`, () => {
    expect(api).toContain(`\`${INTERNAL_CODE}\``);
  });

  it('names no code that does not exist', () => {
    const known = new Set<string>([...ERROR_DEFINITIONS.keys(), ...DECLARED.keys(), INTERNAL_CODE, ...Object.values(SETTINGS).map((s) => s.env)]);
    const written = new Set(api.match(/\bSIBYL_[A-Z0-9_]*[A-Z0-9]\b/g) ?? []);
    expect([...written].filter((code) => !known.has(code))).toEqual([]);
  });

  it('lists every category with its HTTP status', () => {
    for (const [category, status] of Object.entries(HTTP_STATUS)) {
      expect(api).toMatch(new RegExp(`^\\| \`${category}\` \\| ${status} \\|`, 'm'));
    }
  });
});

/**
 * Every metric name in the sources that register metrics (those using prom-client or the collected
 * metrics of @sibyl/observability): each quoted `nv_*` or `sibyl_*` name. Catches the series an app
 * registers while it starts (the router's `sibyl_coordination_up`), which no registry built here holds.
 */
const DECLARED_METRICS = new Set<string>();
for (const file of sourceFiles()) {
  const text = readFileSync(file, 'utf8');
  if (!text.includes("'prom-client'") && !/\baddCollected(Counter|Gauge)\(/.test(text)) continue;
  for (const m of text.matchAll(/'((?:nv|sibyl)_[a-z0-9_]*[a-z0-9])'/g)) DECLARED_METRICS.add(m[1]!);
}

/** The routed data plane's counters as exportRoutedMetrics reads them; values do not matter here. */
const NO_STATS = {
  forwarded: 0,
  retried: 0,
  passedThrough: 0,
  noInstance: 0,
  shadow: { dropped: 0 },
  cache: { hits: 0, misses: 0, staleServes: 0, refreshes: 0, invalidations: 0 },
};

describe('docs/api.md: metrics', async () => {
  // What the all-in-one registers: the shared metrics, the routed data plane's and the shadow recorder's.
  const metrics = createMetrics();
  exportRoutedMetrics(metrics, { stats: () => NO_STATS } as unknown as RoutedInferenceService, () => true);
  shadowRecorder(metrics);
  const registered = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name).filter((name) => !name.startsWith('sibyl_process_'));
  const names = [...new Set([...registered, ...DECLARED_METRICS])].sort();

  it('finds the metrics to check', () => {
    expect(registered.length).toBeGreaterThan(0);
    expect(DECLARED_METRICS).toContain('sibyl_coordination_up');
    expect(DECLARED_METRICS).toContain('sibyl_route_resolutions_total');
  });

  // A metric registered in a way the scan does not read would go unchecked once no registry here holds it.
  it('finds the registered metrics in the sources', () => {
    expect(registered.filter((name) => !DECLARED_METRICS.has(name))).toEqual([]);
  });

  it.each(names)('documents %s', (name) => {
    expect(api).toMatch(new RegExp(`^\\| \`${name}\` \\|`, 'm'));
  });

  it('mentions the process metrics', () => {
    expect(api).toContain('`sibyl_process_*`');
  });
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (heading) found.add(anchor(heading[1]!));
  }
  return found;
}

describe.each(['api.md', 'model-repository.md'])('docs/%s: links', (name) => {
  const text = read(name);
  const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((href) => !/^[a-z]+:/.test(href));

  it.each(links)('resolves %s', (href) => {
    const [path, fragment] = href.split('#') as [string, string | undefined];
    const target = path === '' ? resolve(DOCS, name) : resolve(dirname(resolve(DOCS, name)), path);
    expect(existsSync(target), `${href}: no such file`).toBe(true);
    if (fragment !== undefined) expect([...anchors(readFileSync(target, 'utf8'))]).toContain(fragment);
  });

  it('is linked where other pages expect its sections', () => {
    if (name === 'api.md') expect(anchors(text)).toContain('errors');
    else expect(anchors(text)).toContain('execution');
  });
});
