/**
 * The gateway's coded errors: what the REST and gRPC edges themselves reject, before a request reaches
 * the data plane. Everything else a client sees comes from the codecs (@sibyl/protocol) or the
 * InferenceService behind the gateway.
 */
import { defineError, MODEL_NAME_RULE, MODEL_VERSION_RULE } from '@sibyl/protocol';

export const modelNameInvalid = defineError(
  'SIBYL_GATEWAY_MODEL_NAME_INVALID',
  'INVALID_ARGUMENT',
  `A model name in a path or request does not match ${MODEL_NAME_RULE}.`,
  (name: string) => `model name '${name}' is invalid: a model name must match ${MODEL_NAME_RULE}`,
);

export const modelVersionInvalid = defineError(
  'SIBYL_GATEWAY_MODEL_VERSION_INVALID',
  'INVALID_ARGUMENT',
  `A model version in a path or request is not a decimal number (${MODEL_VERSION_RULE}).`,
  (version: string) => `model version '${version}' is invalid: a version must match ${MODEL_VERSION_RULE}`,
);

export const routeNotFound = defineError(
  'SIBYL_GATEWAY_ROUTE_NOT_FOUND',
  'NOT_FOUND',
  'No REST endpoint has this path (the body is exactly {"error":"Not Found"}, as Triton answers).',
  () => 'Not Found',
);

export const compressionUnsupported = defineError(
  'SIBYL_GATEWAY_COMPRESSION_UNSUPPORTED',
  'UNIMPLEMENTED',
  'The request body has a Content-Encoding other than gzip, deflate or identity.',
  (encoding: string) => `Unsupported compression type '${encoding}'; Content-Encoding must be gzip, deflate or identity`,
);

export const bodyNotDecompressible = defineError(
  'SIBYL_GATEWAY_BODY_NOT_DECOMPRESSIBLE',
  'INVALID_ARGUMENT',
  'The request body does not decompress with the Content-Encoding it declares.',
  (encoding: string, detail: string) => `request body is not valid ${encoding} data: ${detail}`,
);

export const bodyTooLarge = defineError(
  'SIBYL_GATEWAY_BODY_TOO_LARGE',
  'PAYLOAD_TOO_LARGE',
  'The request body, before or after decompression, is larger than the server accepts (--max-request-bytes).',
  (limitBytes: number) => `request body is larger than the limit of ${limitBytes} bytes`,
);

export const bodyIncomplete = defineError(
  'SIBYL_GATEWAY_BODY_INCOMPLETE',
  'INVALID_ARGUMENT',
  'The request body ended before the length its Content-Length header announced.',
  (received: number, declared: number) => `request body ended after ${received} of the ${declared} bytes its Content-Length announced`,
);

export const httpRequestInvalid = defineError(
  'SIBYL_GATEWAY_HTTP_REQUEST_INVALID',
  'INVALID_ARGUMENT',
  'The HTTP request itself is malformed (e.g. a Content-Length that differs from the body, an unparsable Content-Type).',
  (detail: string) => `invalid HTTP request: ${detail}`,
);

export const timeoutHeaderInvalid = defineError(
  'SIBYL_GATEWAY_TIMEOUT_HEADER_INVALID',
  'INVALID_ARGUMENT',
  'The x-sibyl-timeout-ms header is not a non-negative decimal integer.',
  (value: string) => `header x-sibyl-timeout-ms '${value}' is invalid: expected a non-negative integer number of milliseconds`,
);

export const repositoryIndexBodyInvalid = defineError(
  'SIBYL_GATEWAY_REPOSITORY_INDEX_BODY',
  'INVALID_ARGUMENT',
  'The body of POST /v2/repository/index is not empty and not a JSON object whose optional "ready" is a boolean.',
  (detail: string) => `repository index request: ${detail}`,
);

export const healthServiceUnknown = defineError(
  'SIBYL_GATEWAY_HEALTH_SERVICE_UNKNOWN',
  'NOT_FOUND',
  'A gRPC health check names a service this server does not serve.',
  (service: string) =>
    `unknown service '${service}' for health check; use '' or 'inference.GRPCInferenceService'`,
);

export const statisticsUnsupported = defineError(
  'SIBYL_GATEWAY_STATISTICS_UNSUPPORTED',
  'UNIMPLEMENTED',
  'The data plane behind this server keeps no model statistics (the split gateway: statistics are per worker, and routed aggregation is not served).',
  () => "model statistics are not available from this server (the 'statistics' extension is not served here); ask the worker or the all-in-one server that runs the model",
);
