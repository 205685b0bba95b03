/**
 * A worker process that registers one instance and heartbeats until it is killed: the kill -9 test
 * runs it with `node --import tsx`. Arguments: redis url, key prefix, instance id.
 */
import { createLogger } from '@sibyl/observability';
import { instance } from './instance.fixture.js';
import { createRedisCoordination } from './redis-coordination.js';

const [url, keyPrefix, id] = process.argv.slice(2);
const coordination = createRedisCoordination({ url: url!, keyPrefix: keyPrefix!, logger: createLogger({ destination: process.stderr }) });
await coordination.register(instance(id!), { heartbeatMs: 150, ttlMs: 600 });
process.stdout.write('registered\n');
