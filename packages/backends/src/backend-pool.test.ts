import { describe, expect, it } from 'vitest';
import { SibylError, type InferenceService, type InferRequest, type InferResponse } from '@sibyl/protocol';
import { createBackendPool } from './backend-pool.js';
import { createInProcessBackend } from './in-process-backend.js';

describe('createBackendPool', () => {
  it('keeps one backend per address, of the transport its scheme names', async () => {
    const pool = createBackendPool({ http: { maxSockets: 4 } });
    const http = pool.get('http://127.0.0.1:8000');
    const grpc = pool.get('grpc://127.0.0.1:8001');
    expect(pool.get('http://127.0.0.1:8000')).toBe(http);
    expect([http.transport, http.target]).toEqual(['http', 'http://127.0.0.1:8000']);
    expect([grpc.transport, grpc.target]).toEqual(['grpc', 'grpc://127.0.0.1:8001']);
    expect(pool.addresses().sort()).toEqual(['grpc://127.0.0.1:8001', 'http://127.0.0.1:8000']);
    await pool.release('http://127.0.0.1:8000');
    expect(pool.addresses()).toEqual(['grpc://127.0.0.1:8001']);
    expect(pool.get('http://127.0.0.1:8000')).not.toBe(http);
    await pool.close();
    expect(pool.addresses()).toEqual([]);
    expect(() => pool.get('http://127.0.0.1:8000')).toThrow('closed');
  });

  it.each(['127.0.0.1:8000', 'https://h:1', 'http://h', 'http://h:1/v2', 'grpc://', 'http://u@h:1', 'tcp://h:1'])('refuses the address %s', async (address) => {
    const pool = createBackendPool();
    let caught: unknown;
    try {
      pool.get(address);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SibylError);
    expect((caught as SibylError).code).toBe('SIBYL_BACKEND_ADDRESS_INVALID');
    await pool.close();
  });
});

describe('createInProcessBackend', () => {
  it('forwards each call with its context and counts it in flight', async () => {
    let release!: () => void;
    const calls: unknown[] = [];
    const service: InferenceService = {
      serverLive: async () => true,
      serverReady: async () => false,
      serverMetadata: async () => ({ name: 's', version: '1', extensions: [] }),
      modelMetadata: async (name) => ({ name, versions: ['1'], platform: 'p', inputs: [], outputs: [] }),
      modelReady: async () => true,
      repositoryIndex: async () => [],
      infer: (request: InferRequest, context) => {
        calls.push([request, context]);
        return new Promise<InferResponse>((resolve) => {
          release = () => resolve({ modelName: request.modelName, modelVersion: '1', outputs: [] });
        });
      },
    };
    const backend = createInProcessBackend(service);
    expect([backend.target, backend.transport]).toEqual(['in-process', 'in-process']);
    const request: InferRequest = { modelName: 'm', inputs: [] };
    const context = { traceparent: 't' };
    const pending = backend.infer(request, context);
    expect(backend.inflight).toBe(1);
    expect(calls).toEqual([[request, context]]);
    release();
    expect(await pending).toEqual({ modelName: 'm', modelVersion: '1', outputs: [] });
    expect(backend.inflight).toBe(0);
    expect(await backend.serverReady()).toBe(false);
    expect((await backend.modelMetadata('x')).name).toBe('x');
  });

  it('passes the service errors unchanged and still counts down', async () => {
    const failure = new SibylError('SIBYL_MODEL_NOT_FOUND', 'NOT_FOUND', 'unknown model');
    const backend = createInProcessBackend({
      infer: async () => {
        throw failure;
      },
    } as unknown as InferenceService);
    await expect(backend.infer({ modelName: 'm', inputs: [] })).rejects.toBe(failure);
    expect(backend.inflight).toBe(0);
  });
});
