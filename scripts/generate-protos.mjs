#!/usr/bin/env node
// Regenerates the TypeScript message types of protos/ into packages/protocol/src/generated.
// The options here are the loader options every gRPC server and client in Sibyl uses
// (see PROTO_LOADER_OPTIONS in packages/protocol); change both together.
// `--check` fails when the committed files differ from a fresh generation (CI runs it).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const target = join(root, 'packages/protocol/src/generated');
const protos = ['inference/grpc_service.proto', 'grpc/health/v1/health.proto'];
const check = process.argv.includes('--check');

const out = mkdtempSync(join(tmpdir(), 'sibyl-protos-'));
execFileSync(
  join(root, 'node_modules/.bin/proto-loader-gen-types'),
  ['--keepCase', '--longs=String', '--enums=String', '--arrays', '--oneofs', '-I', '.', '-O', out, ...protos],
  // Run from protos/ with relative paths: the generator writes the source path into each file.
  { stdio: 'inherit', cwd: join(root, 'protos') },
);

// NodeNext resolution needs explicit extensions on relative imports; the generator writes none.
const addJsExtensions = (dir) => {
  for (const f of files(dir)) {
    const text = readFileSync(f, 'utf8').replace(/from '(\.{1,2}\/[^']+)'/g, "from '$1.js'");
    writeFileSync(f, text);
  }
};

const files = (dir) =>
  readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));

addJsExtensions(out);

if (check) {
  const fresh = files(out).map((f) => relative(out, f)).sort();
  let committed = [];
  try {
    committed = files(target).map((f) => relative(target, f)).sort();
  } catch {}
  const differs =
    fresh.join('\n') !== committed.join('\n') ||
    fresh.some((f) => !readFileSync(join(out, f)).equals(readFileSync(join(target, f))));
  rmSync(out, { recursive: true });
  if (differs) {
    console.error('packages/protocol/src/generated is out of date: run `npm run protos:generate` and commit.');
    process.exit(1);
  }
  console.log('generated protocol types are up to date');
} else {
  rmSync(target, { recursive: true, force: true });
  cpSync(out, target, { recursive: true });
  rmSync(out, { recursive: true });
  console.log(`wrote ${relative(root, target)}`);
}
