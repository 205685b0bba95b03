/**
 * One server per describe block (or file): started in beforeAll on a temporary repository, stopped
 * and its repository removed in afterAll. Tests read `ctx.server` once beforeAll has run.
 */
import { afterAll, beforeAll } from 'vitest';
import type { RepositoryModel } from '@sibyl/testkit';
import { tempRepository, type TempRepository } from './fixtures.js';
import { createInferenceClient, type InferenceClient } from './grpc-client.js';
import { startServer, type ExitResult, type RunningServer } from './server.js';

export interface ServedModels {
  readonly server: RunningServer;
  readonly grpc: InferenceClient;
  readonly repository: TempRepository;
  /** The exit of the server when afterAll stopped it (for tests that stop it themselves, their result). */
  stop(): Promise<ExitResult>;
}

export function serveModels(models: () => RepositoryModel[], args: readonly string[] = []): ServedModels {
  let server: RunningServer | undefined;
  let grpc: InferenceClient | undefined;
  let repository: TempRepository | undefined;
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is not started (beforeAll failed?)`);
    return v;
  };
  beforeAll(async () => {
    repository = await tempRepository(models());
    server = await startServer({ repositories: [repository.dir], args });
    grpc = createInferenceClient(server.grpcAddress);
  });
  afterAll(async () => {
    grpc?.close();
    await server?.stop();
    await repository?.remove();
  });
  return {
    get server() {
      return need(server, 'server');
    },
    get grpc() {
      return need(grpc, 'gRPC client');
    },
    get repository() {
      return need(repository, 'repository');
    },
    stop: () => need(server, 'server').stop(),
  };
}
