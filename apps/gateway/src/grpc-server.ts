/**
 * The v2 gRPC server (grpc-js): `inference.GRPCInferenceService` and `grpc.health.v1.Health`, loaded
 * from the same protos and loader options as every Sibyl client (loadInferenceDefinitions).
 */
import { loadPackageDefinition, Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import type { Logger, SibylMetrics } from '@sibyl/observability';
import { loadInferenceDefinitions, type InferenceService } from '@sibyl/protocol';
import { createHealthHandlers, createInferenceHandlers } from './grpc-handlers.js';

/** 64 MiB, as the all-in-one server's --max-request-bytes default. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface GrpcServerOptions {
  /** The data plane every RPC calls. */
  service: InferenceService;
  /** Where failures that become INTERNAL are logged, with the request id. */
  logger: Logger;
  /** When given, each call's time in the transport is observed as `sibyl_transport_request_duration_seconds{protocol="grpc"}`. */
  metrics?: SibylMetrics;
  /** Largest message received or sent, bytes; a larger one fails with RESOURCE_EXHAUSTED. Default 64 MiB. */
  maxMessageBytes?: number;
}

export interface GrpcServerHandle {
  readonly server: Server;
  /** Binds and starts serving; resolves with the bound port (useful with port 0). */
  bind(host: string, port: number): Promise<number>;
  /** Stops accepting calls, lets in-flight ones finish for up to `graceMs`, then cancels the rest. */
  close(graceMs: number): Promise<void>;
}

interface ServiceDefinitions {
  inference: ServiceDefinition;
  health: ServiceDefinition;
}

let definitions: ServiceDefinitions | undefined;

/** Parsing the protos takes tens of milliseconds: done once per process. */
function serviceDefinitions(): ServiceDefinitions {
  if (definitions === undefined) {
    const loaded = loadPackageDefinition(loadInferenceDefinitions()) as unknown as {
      inference: { GRPCInferenceService: { service: ServiceDefinition } };
      grpc: { health: { v1: { Health: { service: ServiceDefinition } } } };
    };
    definitions = {
      inference: loaded.inference.GRPCInferenceService.service,
      health: loaded.grpc.health.v1.Health.service,
    };
  }
  return definitions;
}

export function createGrpcServer(options: GrpcServerOptions): GrpcServerHandle {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0 || maxMessageBytes > 2 ** 31 - 1) {
    throw new RangeError(`maxMessageBytes must be a positive 32-bit integer, got ${maxMessageBytes}`);
  }
  const server = new Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  });
  const deps = { service: options.service, logger: options.logger, metrics: options.metrics };
  const { inference, health } = serviceDefinitions();
  server.addService(inference, createInferenceHandlers(deps));
  server.addService(health, createHealthHandlers(deps));

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
