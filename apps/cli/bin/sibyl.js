#!/usr/bin/env node
// Runs the built CLI when there is one (dist/, made by `npm run build`); otherwise the TypeScript
// sources through tsx, so `npx sibyl` works in a fresh checkout right after `npm install`.
// SIBYL_CLI_FROM_SOURCE=1 forces the sources even when dist/ exists (a stale build, or tests).
import { existsSync } from 'node:fs';

const dist = new URL('../dist/main.js', import.meta.url);
if (existsSync(dist) && process.env.SIBYL_CLI_FROM_SOURCE !== '1') {
  await import(dist.href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport('../src/main.ts', import.meta.url);
}
