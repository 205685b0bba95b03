import { describe, expect, it } from 'vitest';
import {
  type Schema,
  type Values,
  compileSchema,
  defaultValues,
  exampleFiles,
  isObject,
  mergeValues,
  quantityBytes,
  resolveRef,
  schema,
  valuesWithExample,
} from './chart.js';

const validate = compileSchema();

function errorsOf(values: Values): string[] {
  return validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** values.yaml with one change at a dotted path. */
function withChange(path: string, value: unknown): Values {
  const keys = path.split('.');
  const patch: Values = {};
  let node = patch;
  for (const key of keys.slice(0, -1)) node = node[key] = {} as Values;
  node[keys.at(-1)!] = value;
  return mergeValues(defaultValues(), patch);
}

/**
 * Walks values and schema together. Every key of an object the chart defines (schema `properties`)
 * must be described in the schema with a description, and every property the schema declares must
 * appear in the values; maps (schema `additionalProperties` as a schema) are walked per entry.
 */
function describeMismatches(root: Schema, node: Schema, value: unknown, path: string, out: string[]): void {
  const resolved = resolveRef(root, node);
  if (!isObject(value)) return;
  if (resolved.properties) {
    if (resolved.additionalProperties !== false) out.push(`${path}: an object the chart defines must set additionalProperties: false`);
    for (const key of Object.keys(value)) {
      if (!(key in resolved.properties)) out.push(`${path}.${key}: in values but not in the schema`);
    }
    for (const [key, child] of Object.entries(resolved.properties)) {
      const described = child.description ?? resolveRef(root, child).description;
      if (!described) out.push(`${path}.${key}: no description`);
      if (!(key in value)) out.push(`${path}.${key}: in the schema but not in values.yaml`);
      else describeMismatches(root, child, value[key], `${path}.${key}`, out);
    }
  } else if (isObject(resolved.additionalProperties)) {
    for (const [key, entry] of Object.entries(value)) describeMismatches(root, resolved.additionalProperties, entry, `${path}.${key}`, out);
  }
}

describe('values.schema.json', () => {
  it('is draft-07 and forbids unknown keys at the top', () => {
    const s = schema();
    expect(s.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(s.additionalProperties).toBe(false);
  });

  it('accepts values.yaml', () => {
    expect(errorsOf(defaultValues())).toEqual([]);
  });

  it.each(exampleFiles())('accepts values.yaml merged with examples/%s', (file) => {
    expect(errorsOf(valuesWithExample(file))).toEqual([]);
  });

  it('has the three example files the docs name', () => {
    expect(exampleFiles()).toEqual(expect.arrayContaining(['production.yaml', 'small.yaml', 'with-triton.yaml']));
  });

  it('describes every key of values.yaml, and values.yaml sets every key it describes', () => {
    const root = schema();
    const out: string[] = [];
    describeMismatches(root, root, defaultValues(), 'values', out);
    expect(out).toEqual([]);
  });

  it('describes every definition it declares, and every property of each', () => {
    const root = schema();
    const missing: string[] = [];
    for (const [name, definition] of Object.entries(root.definitions ?? {})) {
      if (!definition.description) missing.push(name);
      for (const [key, child] of Object.entries(definition.properties ?? {})) {
        if (!child.description && !resolveRef(root, child).description) missing.push(`${name}.${key}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it.each([
    ['a negative replica count', 'gateway.replicas', -1, '/gateway/replicas'],
    ['a negative worker pool replica count', 'workers.pools.onnx.replicas', -2, '/workers/pools/onnx/replicas'],
    ['an unknown key', 'gateway.replica', 3, '/gateway'],
    ['an unknown top-level key', 'gatewy', {}, ''],
    ['a string where an integer goes', 'config.exitTimeoutSecs', '30', '/config/exitTimeoutSecs'],
    ['an unknown log format', 'config.logFormat', 'xml', '/config/logFormat'],
    ['a worker pool of a kind Sibyl does not run', 'workers.pools.onnx.kind', 'triton', '/workers/pools/onnx/kind'],
    ['a pool name that is no DNS label', 'workers.pools.Big_Pool', { enabled: true }, '/workers/pools'],
    ['an unknown key in a worker pool', 'workers.pools.onnx.cacheBytes', 1, '/workers/pools/onnx'],
    ['a zero model cache', 'workers.pools.onnx.modelCacheBytes', 0, '/workers/pools/onnx/modelCacheBytes'],
    ['a bad PDB budget', 'gateway.pdb.maxUnavailable', 'half', '/gateway/pdb/maxUnavailable'],
    ['a memory quantity with a unit typo', 'gateway.resources.limits', { memory: '512MB' }, '/gateway/resources/limits/memory'],
    ['a database URL of another database', 'database.url', 'mysql://db/sibyl', '/database/url'],
    ['a gateway Service type Kubernetes lacks', 'gateway.service.type', 'Ingress', '/gateway/service/type'],
    ['an HPA target above 100%', 'gateway.autoscaling.targetCPUUtilizationPercentage', 150, '/gateway/autoscaling/targetCPUUtilizationPercentage'],
  ])('rejects %s', (_what, path, value, where) => {
    const errors = errorsOf(withChange(path, value));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.some((e) => e.startsWith(`${where} `) || e.startsWith(`${where}/`))).toBe(true);
  });

  it('rejects a route without a pool and an external pool without endpoints', () => {
    expect(errorsOf(withChange('routing.routes', [{ priority: 1, match: {} }])).join()).toMatch(/pool/);
    expect(errorsOf(withChange('routing.pools', [{ name: 'triton', kind: 'triton', endpoints: [] }])).join()).toMatch(/endpoints/);
    expect(errorsOf(withChange('routing.pools', [{ name: 'triton', kind: 'triton', endpoints: ['triton:8001'] }])).join()).toMatch(/endpoints/);
  });

  it('rejects a new worker pool that leaves out what the templates need', () => {
    const errors = errorsOf(withChange('workers.pools.extra', { enabled: true, kind: 'sibyl-onnx', modelCacheBytes: 1 }));
    expect(errors.join()).toMatch(/required property 'resources'/);
  });
});

describe('values as installed', () => {
  const sets: [string, Values][] = [['values.yaml', defaultValues()], ...exampleFiles().map((f): [string, Values] => [`examples/${f}`, valuesWithExample(f)])];

  it.each(sets)('%s: each enabled worker pool has a memory limit above its model cache', (_name, values) => {
    const pools = (values.workers as Values).pools as Record<string, Values>;
    for (const [name, pool] of Object.entries(pools)) {
      if (!pool.enabled) continue;
      const limit = ((pool.resources as Values).limits as Values | undefined)?.memory as string | undefined;
      expect(limit, `${name}: resources.limits.memory`).toBeDefined();
      // The runtime, the batcher's buffers and Node itself need room beyond the cache: 256 MiB at least.
      expect(quantityBytes(limit!) - (pool.modelCacheBytes as number), `${name}: limit minus cache`).toBeGreaterThanOrEqual(256 * 2 ** 20);
    }
  });

  it.each(sets)('%s: every route names a pool the release creates', (_name, values) => {
    const routing = values.routing as Values;
    const pools = new Set<string>((routing.pools as Values[]).map((p) => p.name as string));
    if (routing.registerWorkerPools) {
      for (const [name, pool] of Object.entries((values.workers as Values).pools as Record<string, Values>)) if (pool.enabled) pools.add(name);
    }
    for (const route of routing.routes as Values[]) expect(pools, `route to ${route.pool}`).toContain(route.pool);
  });

  it.each(sets)('%s: the database and Redis URLs come from somewhere', (name, values) => {
    for (const key of ['database', 'redis']) {
      const source = values[key] as Values;
      // small.yaml sets URLs; the others name Secrets. values.yaml alone sets neither: the chart fails
      // with a message naming the setting (the `fail` in _helpers.tpl).
      if (name === 'values.yaml') expect(source.url || source.existingSecret).toBeFalsy();
      else expect(source.url || source.existingSecret, key).toBeTruthy();
    }
  });

  it('production.yaml takes its URLs from existing Secrets and renders a ServiceMonitor', () => {
    const values = valuesWithExample('production.yaml');
    expect((values.database as Values).existingSecret).not.toBe('');
    expect((values.redis as Values).existingSecret).not.toBe('');
    expect(((values.metrics as Values).serviceMonitor as Values).enabled).toBe(true);
  });

  it('with-triton.yaml adds a triton pool reached at fixed endpoints', () => {
    const pools = (valuesWithExample('with-triton.yaml').routing as Values).pools as Values[];
    expect(pools).toContainEqual(expect.objectContaining({ kind: 'triton', endpoints: expect.arrayContaining([expect.stringMatching(/^grpc:\/\//)]) }));
  });
});
