import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run against sources: every workspace import resolves to its src/index.ts, so no build is needed.
const root = fileURLToPath(new URL('.', import.meta.url));
const alias: Record<string, string> = {};
for (const group of ['packages', 'apps']) {
  for (const dir of readdirSync(`${root}${group}`)) {
    const entry = `${root}${group}/${dir}/src/index.ts`;
    if (!existsSync(entry)) continue;
    const name = (await import(`${root}${group}/${dir}/package.json`, { with: { type: 'json' } })).default.name;
    alias[name] = entry;
  }
}

const project = (name: string, include: string[], extra: Record<string, unknown> = {}) => ({
  resolve: { alias },
  test: { name, include, ...extra },
});

export default defineConfig({
  test: {
    projects: [
      project('unit', ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/src/**/*.test.ts', 'tests/deploy/src/**/*.test.ts']),
      project('e2e', ['tests/e2e/src/**/*.test.ts'], { testTimeout: 60_000, hookTimeout: 120_000 }),
    ],
  },
});
