/**
 * One Backend per remote address, shared by every route that names it: `http://host:port` (v2 REST
 * with the binary extension) or `grpc://host:port` (v2 gRPC). Connections live as long as the entry.
 */
import type { Backend } from './backend.js';
import { backendAddressInvalid } from './errors.js';
import { createGrpcBackend, type GrpcBackendOptions } from './grpc-backend.js';
import { createHttpBackend, type HttpBackendOptions } from './http-backend.js';

export interface BackendPoolOptions {
  /** Options of every HTTP backend the pool creates (the address aside). */
  http?: Omit<HttpBackendOptions, 'url'>;
  /** Options of every gRPC backend the pool creates (the address aside). */
  grpc?: Omit<GrpcBackendOptions, 'address'>;
}

export interface BackendPool {
  /** The backend at `address`, created on first use. Throws SIBYL_BACKEND_ADDRESS_INVALID for anything but http://host:port or grpc://host:port. */
  get(address: string): Backend;
  /** Closes and forgets the backend at `address` (an instance that left); a later `get` opens a new one. */
  release(address: string): Promise<void>;
  /** Addresses with an open backend. */
  addresses(): string[];
  /** Closes every backend; `get` then throws. Idempotent. */
  close(): Promise<void>;
}

export function createBackendPool(options: BackendPoolOptions = {}): BackendPool {
  const backends = new Map<string, Backend>();
  let closed = false;
  return {
    get(address) {
      const existing = backends.get(address);
      if (existing !== undefined) return existing;
      if (closed) throw new Error('the backend pool is closed');
      const backend = open(address, options);
      backends.set(address, backend);
      return backend;
    },
    async release(address) {
      const backend = backends.get(address);
      if (backend === undefined) return;
      backends.delete(address);
      await backend.close();
    },
    addresses: () => [...backends.keys()],
    async close() {
      closed = true;
      const all = [...backends.values()];
      backends.clear();
      await Promise.all(all.map((b) => b.close()));
    },
  };
}

function open(address: string, options: BackendPoolOptions): Backend {
  const match = /^(http|grpc):\/\/([^/?#@]+)\/?$/.exec(address);
  if (match === null) throw backendAddressInvalid(address);
  return match[1] === 'http'
    ? createHttpBackend({ ...options.http, url: `http://${match[2]}` })
    : createGrpcBackend({ ...options.grpc, address: match[2]! });
}
