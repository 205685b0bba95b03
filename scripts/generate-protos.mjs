#!/usr/bin/env node
// Regenerates the TypeScript message types of protos/ into the `src/generated` folder of the package
// that owns each service: the v2 inference and health services in packages/protocol, the router
// service in packages/routing. The options here are the loader options every gRPC server and client
// in Sibyl uses (see PROTO_LOADER_OPTIONS in packages/protocol); change both together.
// `--check` fails when the committed files differ from a fresh generation (CI runs it).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const groups = [
  { target: 'packages/protocol/src/generated', protos: ['inference/grpc_service.proto', 'grpc/health/v1/health.proto'] },
  { target: 'packages/routing/src/generated', protos: ['sibyl/router/v1/router.proto'] },
];
const check = process.argv.includes('--check');
let stale = [];

for (const group of groups) {
  const target = join(root, group.target);
  const out = mkdtempSync(join(tmpdir(), 'sibyl-protos-'));
  execFileSync(
    join(root, 'node_modules/.bin/proto-loader-gen-types'),
    ['--keepCase', '--longs=String', '--enums=String', '--arrays', '--oneofs', '-I', '.', '-O', out, ...group.protos],
    // Run from protos/ with relative paths: the generator writes the source path into each file.
    { stdio: 'inherit', cwd: join(root, 'protos') },
  );
  addJsExtensions(out);
  if (check) {
    if (differs(out, target)) stale.push(group.target);
    rmSync(out, { recursive: true });
  } else {
    rmSync(target, { recursive: true, force: true });
    cpSync(out, target, { recursive: true });
    rmSync(out, { recursive: true });
    console.log(`wrote ${group.target}`);
  }
}

if (check) {
  if (stale.length > 0) {
    console.error(`${stale.join(', ')} out of date: run \`npm run protos:generate\` and commit.`);
    process.exit(1);
  }
  console.log('generated protocol types are up to date');
}


// NodeNext resolution needs explicit extensions on relative imports; the generator writes none.
function addJsExtensions(dir) {
  for (const f of files(dir)) {
    const text = readFileSync(f, 'utf8').replace(/from '(\.{1,2}\/[^']+)'/g, "from '$1.js'");
    writeFileSync(f, text);
  }
}

function files(dir) {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}

function differs(out, target) {
  const fresh = files(out).map((f) => relative(out, f)).sort();
  let committed = [];
  try {
    committed = files(target).map((f) => relative(target, f)).sort();
  } catch {}
  return (
    fresh.join('\n') !== committed.join('\n') ||
    fresh.some((f) => !readFileSync(join(out, f)).equals(readFileSync(join(target, f))))
  );
}
