/**
 * A small hand-written InferenceService for the transport tests: it answers the way the data plane's
 * contract says (NOT_FOUND for unknown models, SibylErrors with categories) so the tests can check
 * status mapping, headers and framing without a runtime. Not part of the build (tsconfig excludes
 * *.fixture.ts).
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@sibyl/observability';
import {
  SibylError,
  type InferContext,
  type InferenceService,
  type InferRequest,
  type InferResponse,
  type ModelIndexEntry,
  type ModelMetadata,
  type ServerMetadata,
  type Tensor,
} from '@sibyl/protocol';

export interface FakeModel {
  metadata: ModelMetadata;
  ready: boolean;
  /** Default: each input comes back as the output at the same index, data untouched. */
  run?: (request: InferRequest, context: InferContext) => Promise<Tensor[]>;
}

const tensor = (name: string, datatype: ModelMetadata['inputs'][number]['datatype'], shape: number[]) => ({ name, datatype, shape });

function model(name: string, inputs: ModelMetadata['inputs'], outputs: ModelMetadata['outputs'], extra: Partial<FakeModel> = {}): FakeModel {
  return { metadata: { name, versions: ['1'], platform: 'onnxruntime_onnx', inputs, outputs }, ready: true, ...extra };
}

export class FakeInferenceService implements InferenceService {
  live = true;
  ready = true;
  readonly requests: InferRequest[] = [];
  readonly contexts: InferContext[] = [];
  /** Resolves with the signal's state whenever a `sleepy` call ends (aborted or past its deadline). */
  sleepyEnded: Promise<{ aborted: boolean }> = Promise.resolve({ aborted: false });
  readonly models = new Map<string, FakeModel>();

  constructor() {
    const add = (m: FakeModel) => this.models.set(m.metadata.name, m);
    add(model('echo', [tensor('INPUT0', 'FP32', [-1, 4])], [tensor('OUTPUT0', 'FP32', [-1, 4])]));
    add(model('echo_bytes', [tensor('TEXT', 'BYTES', [1])], [tensor('TEXT_OUT', 'BYTES', [1])]));
    add(model('pair', [tensor('A', 'INT32', [2]), tensor('B', 'INT32', [2])], [tensor('A_OUT', 'INT32', [2]), tensor('B_OUT', 'INT32', [2])]));
    add(model('loading', [tensor('INPUT0', 'FP32', [4])], [tensor('OUTPUT0', 'FP32', [4])], { ready: false }));
    add(
      model('broken', [tensor('INPUT0', 'FP32', [-1, 4])], [tensor('OUTPUT0', 'FP32', [-1, 4])], {
        run: async () => {
          throw new TypeError('kernel exploded');
        },
      }),
    );
    add(
      model('overloaded', [tensor('INPUT0', 'FP32', [-1, 4])], [tensor('OUTPUT0', 'FP32', [-1, 4])], {
        run: async () => {
          throw new SibylError('TEST_QUEUE_FULL', 'UNAVAILABLE', "model 'overloaded' queue is full", { retryAfterSeconds: 2 });
        },
      }),
    );
    add(
      model('sleepy', [tensor('INPUT0', 'FP32', [-1, 4])], [tensor('OUTPUT0', 'FP32', [-1, 4])], {
        run: (request, context) => {
          let ended!: (state: { aborted: boolean }) => void;
          this.sleepyEnded = new Promise((resolve) => (ended = resolve));
          return new Promise((_resolve, reject) => {
            const signal = context.signal;
            const fail = (aborted: boolean) => {
              ended({ aborted });
              reject(new SibylError('TEST_DEADLINE', 'DEADLINE_EXCEEDED', `model '${request.modelName}' ran past its deadline`));
            };
            if (signal?.aborted) return fail(true);
            signal?.addEventListener('abort', () => fail(true), { once: true });
            const wait = context.deadlineMs === undefined ? 10_000 : Math.max(0, context.deadlineMs - Date.now());
            setTimeout(() => fail(signal?.aborted ?? false), wait).unref();
          });
        },
      }),
    );
  }

  async serverLive(): Promise<boolean> {
    return this.live;
  }

  async serverReady(): Promise<boolean> {
    return this.ready;
  }

  async serverMetadata(): Promise<ServerMetadata> {
    return { name: 'sibyl', version: '0.1.0', extensions: ['not_from_the_gateway'] };
  }

  async modelMetadata(name: string, version?: string): Promise<ModelMetadata> {
    return this.find(name, version).metadata;
  }

  async modelReady(name: string, version?: string): Promise<boolean> {
    return this.find(name, version).ready;
  }

  async infer(request: InferRequest, context: InferContext = {}): Promise<InferResponse> {
    const found = this.find(request.modelName, request.modelVersion);
    this.requests.push(request);
    this.contexts.push(context);
    const outputs = found.run
      ? await found.run(request, context)
      : request.inputs.map((input, i) => ({
          name: found.metadata.outputs[i]?.name ?? `${input.name}_OUT`,
          datatype: input.datatype,
          shape: input.shape,
          data: input.data,
        }));
    const response: InferResponse = { modelName: request.modelName, modelVersion: '1', outputs };
    if (request.id !== undefined) response.id = request.id;
    return response;
  }

  async repositoryIndex(): Promise<ModelIndexEntry[]> {
    return [...this.models.values()].map((m) => ({
      name: m.metadata.name,
      version: '1',
      state: m.ready ? 'READY' : 'UNAVAILABLE',
      reason: m.ready ? '' : 'loading',
    }));
  }

  private find(name: string, version: string | undefined): FakeModel {
    const found = this.models.get(name);
    if (found === undefined) throw new SibylError('TEST_MODEL_NOT_FOUND', 'NOT_FOUND', `unknown model '${name}'`);
    if (version !== undefined && !found.metadata.versions.includes(version)) {
      throw new SibylError('TEST_VERSION_NOT_FOUND', 'NOT_FOUND', `unknown version '${version}' of model '${name}'`);
    }
    return found;
  }
}

/** A logger whose JSON lines are kept in `lines`. */
export function captureLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createLogger({ destination, format: 'json' });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines };
}
