/**
 * The router's gRPC server (apps/router): `sibyl.router.v1.Router` over any Router (in practice the
 * in-process one), plus `grpc.health.v1.Health`. Handlers only decode, call the router and encode.
 *
 * Errors travel as on the inference service: the gRPC status of the error's category, its message as
 * details, and its stable code in the `sibyl-error-code` trailer; anything that is not a SibylError
 * becomes INTERNAL here, once, and is logged.
 */
import {
  Metadata,
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type StatusObject,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from '@sibyl/observability';
import { toSibylError, type SibylError } from '@sibyl/protocol';
import { routerHealthServiceUnknown } from './errors.js';
import type { IndexRequest__Output } from './generated/sibyl/router/v1/IndexRequest.js';
import type { Invalidation } from './generated/sibyl/router/v1/Invalidation.js';
import type { ResolveModelRequest__Output } from './generated/sibyl/router/v1/ResolveModelRequest.js';
import type { ResolveVersionRequest__Output } from './generated/sibyl/router/v1/ResolveVersionRequest.js';
import type { WatchRequest__Output } from './generated/sibyl/router/v1/WatchRequest.js';
import { ROUTER_SERVICE_NAME, routerDefinitions } from './router-definitions.js';
import { indexToMessage, invalidationToMessage, modelRouteToMessage, versionRouteToMessage } from './router-messages.js';
import type { Router } from './router.js';

export interface RouterServerOptions {
  /** What every RPC calls. */
  router: Router;
  /** Where failures that become INTERNAL, and watchers that fail, are logged. */
  logger: Logger;
}

export interface RouterServer {
  readonly server: Server;
  /** Binds and starts serving; resolves with the bound port (useful with port 0). */
  bind(host: string, port: number): Promise<number>;
  /**
   * Ends every Watch stream (clients reconnect elsewhere or later), stops accepting calls, lets
   * in-flight ones finish for up to `graceMs`, then cancels the rest. Does not close the router.
   */
  close(graceMs: number): Promise<void>;
}

/** The stable error code travels in the `sibyl-error-code` trailer, beside the status and message. */
export function routerGrpcStatus(err: SibylError): Partial<StatusObject> {
  const trailers = new Metadata();
  trailers.set('sibyl-error-code', err.code);
  if (err.retryAfterSeconds !== undefined) trailers.set('retry-after', String(Math.ceil(err.retryAfterSeconds)));
  return { code: err.grpcCode, details: err.message, metadata: trailers };
}

export function createRouterServer(options: RouterServerOptions): RouterServer {
  const { router, logger } = options;
  const server = new Server();
  const watches = new Set<ServerWritableStream<WatchRequest__Output, Invalidation>>();
  let closing = false;

  const fail = (error: unknown, rpc: string): Partial<StatusObject> => {
    const err = toSibylError(error);
    if (err.category === 'INTERNAL') logger.error({ rpc, err: error }, 'router gRPC call failed');
    return routerGrpcStatus(err);
  };

  const unary =
    <Req, Res>(rpc: string, run: (request: Req) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      run(call.request).then(
        (response) => callback(null, response),
        (error: unknown) => callback(fail(error, rpc)),
      );
    };

  const Watch = (call: ServerWritableStream<WatchRequest__Output, Invalidation>) => {
    let stop: (() => void) | undefined;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      watches.delete(call);
      stop?.();
    };
    watches.add(call);
    call.on('cancelled', end);
    call.on('close', end);
    call.on('error', end);
    router
      .watch((invalidation) => {
        if (!ended) call.write(invalidationToMessage(invalidation));
      })
      .then(
        (unwatch) => {
          stop = unwatch;
          if (ended) unwatch();
          // Headers tell the client it is watching: invalidations from now on reach it.
          else call.sendMetadata(new Metadata());
        },
        (error: unknown) => {
          end();
          call.emit('error', fail(error, 'Watch'));
        },
      );
  };

  const routerService: UntypedServiceImplementation = {
    ResolveModel: unary('ResolveModel', async (request: ResolveModelRequest__Output) =>
      modelRouteToMessage(await router.resolveModel(request.model ?? '')),
    ),
    ResolveVersion: unary('ResolveVersion', async (request: ResolveVersionRequest__Output) =>
      versionRouteToMessage(await router.resolveVersion(request.model ?? '', request.version ?? 0)),
    ),
    Index: unary('Index', async (_request: IndexRequest__Output) => indexToMessage(await router.index())),
    Watch,
  };

  const healthService: UntypedServiceImplementation = {
    Check: unary('Check', async (request: { service?: string }) => {
      const name = request.service ?? '';
      if (name !== '' && name !== ROUTER_SERVICE_NAME) throw routerHealthServiceUnknown(name, ROUTER_SERVICE_NAME);
      return { status: closing ? 'NOT_SERVING' : 'SERVING' };
    }),
  };

  const { router: routerClient, health } = routerDefinitions();
  server.addService(routerClient.service, routerService);
  server.addService(health, healthService);

  return {
    server,
    bind(host, port) {
      // An IPv6 literal needs brackets in a gRPC target.
      const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
      return new Promise((resolve, reject) => {
        server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => {
          if (err) reject(err);
          else resolve(bound);
        });
      });
    },
    close(graceMs) {
      closing = true;
      // Watch streams never end by themselves; shutdown would wait for them the whole grace period.
      for (const call of [...watches]) {
        watches.delete(call);
        call.end();
      }
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
