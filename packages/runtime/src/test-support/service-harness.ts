/**
 * Test support: a LocalInferenceService over temporary model repositories, with its log lines and
 * metrics readable by the test. Used only by this package's tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, createMetrics, type Logger, type SibylMetrics } from '@sibyl/observability';
import type { ModelSource } from '../model-source.js';
import {
  createLocalInferenceService,
  type LocalInferenceService,
  type LocalInferenceServiceOptions,
} from '../local-inference-service.js';

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface Harness {
  service: LocalInferenceService;
  logger: Logger;
  metrics: SibylMetrics;
  logs: LogLine[];
  /** Current value of a counter or gauge for these labels (0 when never set). */
  metric(name: string, labels: Record<string, string>): Promise<number>;
}

export type HarnessOptions = Partial<Omit<LocalInferenceServiceOptions, 'logger' | 'metrics' | 'source'>> &
  ({ repositories: string[] } | { source: (logger: Logger) => ModelSource });

export function createHarness(options: HarnessOptions): Harness {
  const logs: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  const metrics = createMetrics({ processMetrics: false });
  const logger = createLogger({ destination, verbose: 1 });
  const { source, ...rest } = options as HarnessOptions & { source?: (logger: Logger) => ModelSource };
  const service = createLocalInferenceService({
    serverVersion: '0.0.0-test',
    extensions: ['binary_tensor_data'],
    loadConcurrency: 2,
    ...rest,
    ...(source === undefined ? {} : { source: source(logger) }),
    logger,
    metrics,
  });
  return {
    service,
    logger,
    metrics,
    logs,
    async metric(name, labels) {
      const metric = metrics.registry.getSingleMetric(name);
      if (metric === undefined) throw new Error(`no metric ${name}`);
      const { values } = await metric.get();
      const match = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
      return match?.value ?? 0;
    },
  };
}

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'sibyl-runtime-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
