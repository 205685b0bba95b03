import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagement, type Harness } from './management.fixture.js';

/** Every endpoint of the management API, as OpenAPI names it. */
const ENDPOINTS = [
  'get /v1/models',
  'post /v1/models',
  'get /v1/models/{name}',
  'patch /v1/models/{name}',
  'delete /v1/models/{name}',
  'get /v1/models/{name}/versions',
  'post /v1/models/{name}/versions',
  'get /v1/models/{name}/versions/{version}',
  'delete /v1/models/{name}/versions/{version}',
  'post /v1/models/{name}/deploy',
  'post /v1/models/{name}/rollback',
  'post /v1/models/{name}/undeploy',
  'get /v1/models/{name}/events',
  'get /v1/models/{name}/traffic',
  'put /v1/models/{name}/traffic',
  'get /v1/pools',
  'post /v1/pools',
  'get /v1/pools/{name}',
  'patch /v1/pools/{name}',
  'delete /v1/pools/{name}',
  'get /v1/routes',
  'post /v1/routes',
  'get /v1/routes/{id}',
  'patch /v1/routes/{id}',
  'delete /v1/routes/{id}',
  'get /v1/routes/explain/{model}',
  'get /v1/status',
  'get /v1/health/live',
  'get /v1/health/ready',
  'get /v1/artifacts/{sha256}',
  'post /v2/repository/index',
  'post /v2/repository/models/{name}/load',
  'post /v2/repository/models/{name}/unload',
];

type Operation = {
  summary?: string;
  tags?: string[];
  parameters?: Array<{ in: string; name: string; required?: boolean }>;
  requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, unknown>;
};

describe('the OpenAPI document', () => {
  let h: Harness;
  let doc: { openapi: string; info: { version: string }; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

  beforeAll(async () => {
    h = await startManagement();
    const res = await h.call('GET', '/docs/json');
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is OpenAPI 3 with the server version', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.version).toBe('0.1.0');
  });

  it('lists every route, and nothing else', () => {
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => m !== 'head').map((m) => `${m} ${path}`));
    expect(listed.sort()).toEqual([...ENDPOINTS].sort());
  });

  it.each(ENDPOINTS)('describes %s with a summary, a tag, its path parameters and its answers', (endpoint) => {
    const [method, path] = endpoint.split(' ') as [string, string];
    const op = doc.paths[path]![method]!;
    expect(op.summary).toBeTruthy();
    expect(op.tags?.length).toBeGreaterThan(0);
    for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
      expect(op.parameters?.find((p) => p.in === 'path' && p.name === name)?.required).toBe(true);
    }
    expect(Object.keys(op.responses).some((status) => /^2/.test(status))).toBe(true);
    expect(op.responses['4XX']).toMatchObject({ description: expect.stringContaining('Refused') });
  });

  it('documents the upload body as raw bytes and its query parameters', () => {
    const op = doc.paths['/v1/models/{name}/versions']!['post']!;
    expect(op.requestBody?.content['application/octet-stream']?.schema).toEqual({ type: 'string', format: 'binary' });
    expect(op.parameters?.filter((p) => p.in === 'query').map((p) => [p.name, p.required ?? false])).toEqual([
      ['filename', true],
      ['sha256', false],
    ]);
  });

  it('marks optional bodies as optional and required ones as required', () => {
    expect(doc.paths['/v1/models/{name}/rollback']!['post']!.requestBody?.required).toBe(false);
    expect(doc.paths['/v2/repository/index']!['post']!.requestBody?.required).toBe(false);
    expect(doc.paths['/v1/models/{name}/deploy']!['post']!.requestBody?.required).toBe(true);
  });

  it('names the shared schemas', () => {
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Model', 'Version', 'Signature', 'Tensor', 'Release', 'Event', 'Error', 'RepositoryIndexEntry', 'Pool', 'Route', 'RouteMatch', 'Traffic', 'RouteExplanation']),
    );
  });

  it('serves the YAML form and HEAD through the same on-demand docs', async () => {
    const yaml = await h.call('GET', '/docs/yaml');
    expect(yaml.status).toBe(200);
    expect(yaml.headers['content-type']).toContain('yaml');
    expect(yaml.text).toContain('/v1/models/{name}/deploy');
    const head = await h.call('HEAD', '/docs/json');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toContain('application/json');
  });

  it('serves a browsable page and its assets from the server itself', async () => {
    let res = await h.call('GET', '/docs');
    if (res.status >= 300 && res.status < 400) res = await h.call('GET', new URL(String(res.headers.location), h.base).pathname);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    const assets = [...res.text.matchAll(/(?:src|href)="\.?\/?([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(asset, 'an asset from another host').not.toMatch(/^https?:/);
      const path = asset.startsWith('/') ? asset : `/docs/${asset.replace(/^docs\//, '')}`;
      expect((await h.call('GET', path)).status, path).toBe(200);
    }
  });
});
