/**
 * The split topology with a dependency taken away: Redis, PostgreSQL, then the router itself. The
 * apps reach Redis and PostgreSQL through TCP proxies (harness/tcp-proxy.ts) that the tests cut and
 * restore, so the real servers other tests share are never touched. One cluster for the file.
 *
 * - Redis down: models already placed keep serving; the router or a worker says Redis is lost (log
 *   line or metric); back up: a model never requested before is placed and served.
 * - PostgreSQL down: warm models keep serving through the gateway; management answers 503 on registry
 *   calls; back up: management works again.
 * - Router down (kill -9): the gateway keeps serving the routes it cached; the router restarted on
 *   the same port: a model never requested before routes again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../../../scripts/cluster/index.js';
import { tempRepository, type TempRepository } from '../harness/fixtures.js';
import { httpRequest } from '../harness/http.js';
import { parseRedisUrl } from '../harness/redis-command.js';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.js';
import {
  SPLIT_SKIP,
  addK,
  describeFailures,
  eventually,
  inferRest,
  scrape,
  scratchDatabase,
  scratchRedis,
  sleep,
  type Answer,
  type ScratchDatabase,
} from './support.js';

const MODELS = ['warm_a', 'warm_b', 'cold_redis', 'cold_pg', 'cold_router'];

describe.skipIf(SPLIT_SKIP)('split topology: degraded modes', () => {
  let db: ScratchDatabase;
  let repo: TempRepository;
  let cluster: Cluster;
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;

  beforeAll(async () => {
    db = await scratchDatabase();
    const redisUrl = await scratchRedis();
    const pg = new URL(db.url);
    pgProxy = await startTcpProxy(`${pg.hostname}:${pg.port || 5432}`);
    const redis = parseRedisUrl(redisUrl);
    redisProxy = await startTcpProxy(`${redis.host}:${redis.port}`);
    pg.hostname = '127.0.0.1';
    pg.port = String(pgProxy.port);
    const proxiedRedis = new URL(redisUrl);
    proxiedRedis.hostname = '127.0.0.1';
    proxiedRedis.port = String(redisProxy.port);

    repo = await tempRepository(MODELS.map((name, i) => ({ name, versions: { '1': addK(name, i) } })));
    cluster = await startCluster({
      databaseUrl: pg.toString(),
      redisUrl: proxiedRedis.toString(),
      modelRepositories: [repo.dir],
      workers: [{ kind: 'onnx' }, { kind: 'onnx' }],
    });
  });

  afterAll(async () => {
    await pgProxy?.restore();
    await redisProxy?.restore();
    await cluster?.stop();
    await pgProxy?.close();
    await redisProxy?.close();
    await repo?.remove();
    await db?.drop();
  });

  const gateway = () => cluster.endpoints.gateway.httpUrl;
  const logs = (...names: string[]) => names.map((n) => `--- ${n} ---\n${cluster.processes.get(n)?.tail(25) ?? '(none)'}`).join('\n');

  /** `count` requests for each of `models`, spread over `spanMs`: every answer must be 200 with y = x + index. */
  async function keepServing(models: readonly string[], spanMs: number, count = 10): Promise<Answer[]> {
    const answers: Answer[] = [];
    for (let r = 0; r < count; r++) {
      for (const model of models) {
        const a = await inferRest(gateway(), model, r);
        answers.push(a);
        if (a.status === 200) expect(a.y).toBe(r + MODELS.indexOf(model));
      }
      await sleep(spanMs / count);
    }
    return answers;
  }

  it('Redis down: placed models keep serving, the loss is reported; back up: a new model is placed', async () => {
    for (const model of ['warm_a', 'warm_b']) expect(await inferRest(gateway(), model, 0), logs('gateway', 'router')).toMatchObject({ status: 200 });

    await redisProxy.cut();
    const during = await keepServing(['warm_a', 'warm_b'], 3000);
    expect(describeFailures(during), logs('gateway', 'router', 'onnx-1', 'onnx-2')).toBe('');

    // Someone says so: a log line of the router or a worker naming Redis, or a metric saying disconnected.
    const saying = ['router', 'onnx-1', 'onnx-2'].flatMap((name) =>
      (cluster.processes.get(name)?.lines() ?? [])
        .filter((line) => /redis/i.test(line) && /(unreachable|disconnect|lost|down|degraded|error|closed|refused)/i.test(line))
        .map((line) => `${name}: ${line}`),
    );
    const said = saying.length > 0;
    if (said) console.log(`Redis down, reported as:\n${saying.slice(0, 3).join('\n')}`);
    const metrics = await scrape(cluster.endpoints.router.metricsUrl).catch(() => '');
    const metricSays = /^sibyl_coordination_connected(\{[^}]*\})? 0$/m.test(metrics);
    expect(said || metricSays, `no log line or metric about Redis being down\n${logs('router', 'onnx-1')}`).toBe(true);

    await redisProxy.restore();
    await eventually('a model never requested before served after Redis is back', async () => (await inferRest(gateway(), 'cold_redis', 1)).status === 200, 15_000);
    // The workers re-register one by one (their keys expired during the cut); meanwhile the router keeps
    // the instances it knew (recoveryGraceMs), so no request is refused while the set refills.
    for (let i = 0; i < 10; i++) {
      const after = await inferRest(gateway(), 'cold_redis', 1);
      expect(after, `request ${i} after recovery: ${after.error}\n${logs('gateway', 'router', 'onnx-1', 'onnx-2')}`).toMatchObject({ status: 200, y: 1 + MODELS.indexOf('cold_redis') });
    }
  });

  it('PostgreSQL down: warm models keep serving, management answers 503; back up: management works', async () => {
    const management = cluster.endpoints.management.url;
    expect((await httpRequest(`${management}/v1/models`)).status).toBe(200);
    for (const model of ['warm_a', 'warm_b']) expect((await inferRest(gateway(), model, 0)).status).toBe(200);

    await pgProxy.cut();
    const during = await keepServing(['warm_a', 'warm_b'], 3000);
    expect(describeFailures(during), logs('gateway', 'router')).toBe('');
    const refused = await httpRequest(`${management}/v1/models`);
    expect(refused.status, refused.text).toBe(503);
    // Still ready (the artifact file server keeps serving workers), and it says the registry is down.
    const health = await httpRequest(`${management}/v1/health/ready`);
    expect(health.status, health.text).toBe(200);
    expect((health.json as { registry: string }).registry).toBe('down');

    await pgProxy.restore();
    await eventually('management answering registry calls again', async () => (await httpRequest(`${management}/v1/models`)).status === 200, 15_000);
    const list = (await httpRequest(`${management}/v1/models`)).json as { models: Array<{ name: string }> };
    expect(list.models.map((m) => m.name).sort()).toEqual([...MODELS].sort());
    await eventually('a model never requested before served after PostgreSQL is back', async () => (await inferRest(gateway(), 'cold_pg', 2)).status === 200, 15_000);
  });

  it('router down: cached routes keep serving; router back on its port: new models route again', async () => {
    for (const model of ['warm_a', 'warm_b']) expect((await inferRest(gateway(), model, 0)).status).toBe(200);

    const exit = await cluster.kill('router', 'SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    const during = await keepServing(['warm_a', 'warm_b'], 3000);
    expect(describeFailures(during), logs('gateway')).toBe('');
    // A model no route was cached for cannot be routed while the router is gone.
    const cold = await inferRest(gateway(), 'cold_router', 3);
    expect(cold.status, 'a model never routed, with the router down').not.toBe(200);

    await cluster.restart('router');
    await eventually('a model never requested before routed after the router is back', async () => (await inferRest(gateway(), 'cold_router', 3)).status === 200, 15_000);
    expect(await inferRest(gateway(), 'cold_router', 3)).toMatchObject({ status: 200, y: 3 + MODELS.indexOf('cold_router') });
    expect(describeFailures(await keepServing(['warm_a', 'warm_b'], 500, 3))).toBe('');
  });
});
