/**
 * The gRPC message shapes the handlers read and write, as grpc-js with the shared proto-loader
 * options (keepCase, longs as strings, enums as strings) produces and accepts them. The infer messages
 * are the codec's own types; the small control messages are restated from protos/.
 */
import type { decodeGrpcInferRequest, encodeGrpcInferResponse } from '@sibyl/protocol';

export type ModelInferRequestMessage = Parameters<typeof decodeGrpcInferRequest>[0];
export type ModelInferResponseMessage = ReturnType<typeof encodeGrpcInferResponse>;

/** ModelReadyRequest, ModelMetadataRequest and ModelStatisticsRequest: `string name = 1; string version = 2`. */
export interface ModelRef {
  name?: string;
  version?: string;
}

export interface ServerMetadataResponse {
  name: string;
  version: string;
  extensions: string[];
}

export interface ModelMetadataResponse {
  name: string;
  versions: string[];
  platform: string;
  inputs: Array<{ name: string; datatype: string; shape: number[] }>;
  outputs: Array<{ name: string; datatype: string; shape: number[] }>;
}

export interface RepositoryIndexRequest {
  repository_name?: string;
  ready?: boolean;
}

export interface RepositoryIndexResponse {
  models: Array<{ name: string; version: string; state: string; reason: string }>;
}

/** ModelStreamInferResponse: error_message is empty on success. */
export interface ModelStreamInferResponse {
  error_message?: string;
  infer_response?: ModelInferResponseMessage;
}

export interface HealthCheckRequest {
  service?: string;
}

export interface HealthCheckResponse {
  status: 'SERVING' | 'NOT_SERVING';
}
