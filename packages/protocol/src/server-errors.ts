/**
 * Errors about the server's own state rather than the request, shared by every app that serves the
 * v2 protocol (the gateway, the workers, the all-in-one) and understood by the clients in front of
 * them (a gateway retries SIBYL_SERVER_DRAINING on another instance: the request never ran).
 */
import { defineError } from './sibyl-error.js';

export const modelConfigUnsupported = defineError(
  'SIBYL_MODEL_CONFIG_UNSUPPORTED',
  'UNIMPLEMENTED',
  "The service behind this endpoint cannot tell a model's configuration (Triton's model configuration extension is not among the server metadata's extensions).",
  (model: string) => `model '${model}': this server does not serve model configurations`,
);

export const serverDraining = defineError(
  'SIBYL_SERVER_DRAINING',
  'UNAVAILABLE',
  'The server is shutting down: it finishes the requests it has but takes no new ones (the request did not run; a gateway retries it on another instance). REST answers close the connection.',
  (what: string) => `the server is shutting down and takes no new requests (${what})`,
);
