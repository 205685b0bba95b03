#!/usr/bin/env node
// `sibyl <app> [flags]` starts one of the platform's apps (the container image's entry point);
// any other `sibyl <command>` is the CLI.
//
// Apps run their built code (dist/, made by `npm run build`). The CLI runs its built code when there
// is one, otherwise its TypeScript sources through tsx, so `npx sibyl` works in a fresh checkout
// right after `npm install`; SIBYL_CLI_FROM_SOURCE=1 forces the sources (a stale build, or tests).
import { existsSync } from 'node:fs';

/** App name → its entry point, relative to apps/. */
const APPS = {
  'all-in-one': 'sibyl/$/main',
  gateway: 'gateway/$/main',
  router: 'router/$/main',
  'worker-onnx': 'worker/$/main-onnx',
  'worker-tf': 'worker/$/main-tf',
  management: 'management/$/main',
};

const fromSource = process.env.SIBYL_CLI_FROM_SOURCE === '1';
const app = Object.hasOwn(APPS, process.argv[2] ?? '') ? APPS[process.argv[2]] : undefined;
const entry = app === undefined ? 'cli/$/main' : app;
const appName = process.argv[2];
if (app !== undefined) process.argv.splice(2, 1); // the app reads its flags from process.argv.slice(2)

const dist = new URL(`../../${entry.replace('$', 'dist')}.js`, import.meta.url);
if (app !== undefined && !existsSync(dist)) {
  process.stderr.write(`sibyl: ${appName} is not built: run \`npm run build\` first (missing ${dist.pathname})\n`);
  process.exit(1);
}
if (existsSync(dist) && (app !== undefined || !fromSource)) {
  await import(dist.href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport(`../../${entry.replace('$', 'src')}.ts`, import.meta.url);
}
