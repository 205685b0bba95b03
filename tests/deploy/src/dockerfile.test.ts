import { describe, expect, it } from 'vitest';
import { DOCKER, read, ROOT } from './chart.js';

interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

/** Instructions grouped by stage (each FROM starts one). */
function stages(list: Instruction[]): Instruction[][] {
  const out: Instruction[][] = [];
  for (const instruction of list) {
    if (instruction.op === 'FROM') out.push([]);
    out.at(-1)?.push(instruction);
  }
  return out;
}

const dockerfile = read(`${DOCKER}Dockerfile`);
/** The node flags of the root `npm start` script (`node <flags> apps/sibyl/dist/main.js`). */
const startScript = (JSON.parse(read(`${ROOT}package.json`)) as { scripts: { start: string } }).scripts.start;
const startFlags = startScript.split(/\s+/).filter((word) => word.startsWith('--'));
const all = instructions(dockerfile);
const byStage = stages(all);
const build = byStage[0]!;
const final = byStage.at(-1)!;
const argDefault = (name: string) => all.find((i) => i.op === 'ARG' && i.args.startsWith(`${name}=`))?.args.split('=')[1];
const baseOf = (stage: Instruction[]) => stage[0]!.args.split(/\s+/)[0]!.replace(/^\$\{(\w+)\}$/, (_, name: string) => argDefault(name) ?? name);
const runs = (stage: Instruction[]) => stage.filter((i) => i.op === 'RUN').map((i) => i.args);
const env = (stage: Instruction[]) => stage.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');

describe('deploy/docker/Dockerfile', () => {
  it('is multi-stage on node:20-bookworm-slim', () => {
    expect(byStage.length).toBeGreaterThanOrEqual(2);
    expect(baseOf(build)).toBe('node:20-bookworm-slim');
    expect(baseOf(final)).toBe('node:20-bookworm-slim');
  });

  it('builds from the lockfile with the onnxruntime download skipped, then drops dev dependencies', () => {
    expect(env(build)).toMatch(/\bONNXRUNTIME_NODE_INSTALL=skip\b/);
    const buildRuns = runs(build).join('\n');
    expect(buildRuns).toMatch(/\bnpm ci\b/);
    expect(buildRuns).toMatch(/\bnpm run build\b/);
    expect(buildRuns).toMatch(/\bnpm prune --omit=dev\b|\bnpm ci [^\n]*--omit=dev\b/);
    expect(runs(build).findIndex((r) => /npm ci\b/.test(r))).toBeLessThan(runs(build).findIndex((r) => /npm run build/.test(r)));
  });

  it('installs nothing from the registry in the final stage, and never tfjs-node', () => {
    expect(runs(final).join('\n')).not.toMatch(/\bnpm (ci|install|i|add)\b/);
    expect(dockerfile).not.toMatch(/npm\s+(install|i|add)\b[^\n]*tfjs-node/);
    expect(dockerfile).not.toMatch(/@tensorflow\/tfjs-node/);
  });

  it('copies the build output into the final stage, not the sources', () => {
    const copies = final.filter((i) => i.op === 'COPY');
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) expect(copy.args).toMatch(/--from=build\b/);
    // the staging step leaves src/ behind and keeps what runs: dist, bin, migrations, protos
    const staging = runs(build).find((r) => r.includes('/out'))!;
    expect(staging).toMatch(/dist/);
    expect(staging).toMatch(/migrations/);
    expect(staging).toMatch(/protos/);
    expect(staging).not.toMatch(/\bsrc\b/);
  });

  it('runs as a numeric non-root user in /app with NODE_ENV=production', () => {
    const users = final.filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args.split(':')[0]!;
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);
    expect(user).not.toBe('root');
    expect(final.filter((i) => i.op === 'WORKDIR').at(-1)?.args).toBe('/app');
    expect(env(final)).toMatch(/\bNODE_ENV=production\b/);
  });

  it('starts `sibyl <app>`, all-in-one by default, and exposes the five ports', () => {
    const entrypoint = final.filter((i) => i.op === 'ENTRYPOINT').at(-1);
    expect(JSON.parse(entrypoint!.args)).toEqual(['node', ...startFlags, '/app/apps/cli/bin/sibyl.js']);
    const cmd = final.filter((i) => i.op === 'CMD').at(-1);
    expect(JSON.parse(cmd!.args)).toEqual(['all-in-one']);
    const exposed = final.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map(Number);
    expect(exposed.sort()).toEqual([8000, 8001, 8002, 8003, 8004]);
    expect(runs(final).join('\n')).toMatch(/ln -s \/app\/apps\/cli\/bin\/sibyl\.js \/usr\/local\/bin\/sibyl/);
  });

  it('runs node with the heap flags of `npm start`, so the image serves large tensors as the bench measured', () => {
    expect(startScript).toMatch(/^node (--[\w-]+=\S+ )+apps\/sibyl\/dist\/main\.js$/);
    expect(startFlags.some((flag) => /^--initial-old-space-size=\d+$/.test(flag))).toBe(true);
  });

  it('says why it runs without an init process', () => {
    expect(dockerfile).toMatch(/PID 1/);
    expect(dockerfile).toMatch(/--init/);
  });
});

describe('deploy/docker/Dockerfile.dockerignore', () => {
  const ignored = read(`${DOCKER}Dockerfile.dockerignore`)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  it.each(['node_modules', 'dist', '.sibyl', '.git', '.turbo'])('keeps %s out of the build context', (name) => {
    expect(ignored.some((pattern) => pattern === name || pattern === `**/${name}`)).toBe(true);
  });

  it('keeps what npm ci needs in the context', () => {
    for (const needed of ['package.json', 'package-lock.json', 'apps', 'packages', 'tests', 'protos']) {
      expect(ignored, needed).not.toContain(needed);
    }
  });
});
