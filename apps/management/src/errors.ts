/**
 * The management API's own coded errors: what its edge refuses before the registry, the artifact
 * store or the runtime are asked. Their errors (SIBYL_REGISTRY_*, SIBYL_ARTIFACT_*) reach clients
 * unchanged, except a model the runtime cannot load, which an upload reports as MODEL_REJECTED (400)
 * with the runtime's own words.
 */
import { defineError, MODEL_NAME_RULE } from '@sibyl/protocol';

function quote(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value) ?? String(value);
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

// ---- requests -----------------------------------------------------------------------------------

export const modelNameInvalid = defineError(
  'SIBYL_MANAGEMENT_MODEL_NAME_INVALID',
  'INVALID_ARGUMENT',
  `A model name in a path or body does not match ${MODEL_NAME_RULE} (a name is never a path).`,
  (name: unknown) => `invalid model name ${quote(name)}: a model name must match ${MODEL_NAME_RULE}`,
);

export const fieldUnknown = defineError(
  'SIBYL_MANAGEMENT_FIELD_UNKNOWN',
  'INVALID_ARGUMENT',
  'A JSON body or query string carries a field the endpoint does not know.',
  (where: string, field: string, known: readonly string[]) =>
    `${where}: unknown field '${field}'${known.length > 0 ? `; known fields: ${known.join(', ')}` : '; it takes no fields'}`,
);

export const fieldInvalid = defineError(
  'SIBYL_MANAGEMENT_FIELD_INVALID',
  'INVALID_ARGUMENT',
  'A field of a JSON body, query string or path is missing, has the wrong type, or breaks its rule.',
  (where: string, problem: string) => `${where} ${problem}`,
);

export const jsonMalformed = defineError(
  'SIBYL_MANAGEMENT_JSON_MALFORMED',
  'INVALID_ARGUMENT',
  'A request body sent as JSON does not parse.',
  (detail: string) => `request body is not valid JSON: ${detail}`,
);

export const contentTypeUnsupported = defineError(
  'SIBYL_MANAGEMENT_CONTENT_TYPE',
  'INVALID_ARGUMENT',
  'A body has a Content-Type the endpoint does not take: JSON endpoints need application/json; uploads refuse form and text types.',
  (contentType: string, expected: string) => `Content-Type '${contentType}' is not accepted here: ${expected}`,
);

export const bodyTooLarge = defineError(
  'SIBYL_MANAGEMENT_BODY_TOO_LARGE',
  'PAYLOAD_TOO_LARGE',
  'A JSON request body is larger than the endpoint accepts.',
  (limitBytes: number) => `request body is larger than the limit of ${limitBytes} bytes`,
);

export const httpRequestInvalid = defineError(
  'SIBYL_MANAGEMENT_HTTP_REQUEST_INVALID',
  'INVALID_ARGUMENT',
  'The HTTP request is refused by the HTTP framework before a route sees it (e.g. a Content-Length that differs from the body).',
  (detail: string) => `invalid HTTP request: ${detail}`,
);

export const actorInvalid = defineError(
  'SIBYL_MANAGEMENT_ACTOR_INVALID',
  'INVALID_ARGUMENT',
  'The x-sibyl-actor header is empty, longer than 256 characters, or holds a control character.',
  (value: string) => `header x-sibyl-actor ${quote(value)} is invalid: expected 1 to 256 characters without control characters`,
);

export const routeNotFound = defineError(
  'SIBYL_MANAGEMENT_ROUTE_NOT_FOUND',
  'NOT_FOUND',
  'No management endpoint has this method and path.',
  (method: string, path: string) => `no management endpoint ${method} ${path}; the API is described at /docs`,
);

// ---- uploads ------------------------------------------------------------------------------------

export const uploadTooLarge = defineError(
  'SIBYL_MANAGEMENT_UPLOAD_TOO_LARGE',
  'PAYLOAD_TOO_LARGE',
  'An uploaded model is larger than the server accepts (maxUploadBytes); refused from its Content-Length before it is read when it has one.',
  (what: string, limitBytes: number) => `${what} is larger than the upload limit of ${limitBytes} bytes`,
);

export const modelRejected = defineError(
  'SIBYL_MANAGEMENT_MODEL_REJECTED',
  'INVALID_ARGUMENT',
  'The runtime cannot load an uploaded model (corrupt, truncated, not a model, or unsupported); the message carries its reason, and nothing is stored.',
  (what: string, reason: string) => `${what} was not accepted: the runtime cannot load it: ${reason}`,
);

// ---- the model repository extension ---------------------------------------------------------------

export const repositoryUnavailable = defineError(
  'SIBYL_MANAGEMENT_REPOSITORY_UNAVAILABLE',
  'UNAVAILABLE',
  'The model repository extension (index, load, unload) is called on a management server that has no serving data plane attached.',
  (route: string) =>
    `${route} is not available: this management server runs without a serving data plane, so it cannot list, load or unload models`,
);

export const loadParameterInvalid = defineError(
  'SIBYL_MANAGEMENT_LOAD_PARAMETER_INVALID',
  'INVALID_ARGUMENT',
  'A parameter of a repository load request is unknown, not a string, not valid base64 or JSON, or a file path that could escape its directory.',
  (parameter: string, problem: string) => `load parameter '${parameter}' ${problem}`,
);

// ---- routing -------------------------------------------------------------------------------------

export const nothingToExplain = defineError(
  'SIBYL_MANAGEMENT_NOTHING_TO_EXPLAIN',
  'CONFLICT',
  'Explaining the route of a model without a live version needs the version to explain (?version=N).',
  (model: string) => `model '${model}' has no live version; name the version to explain with ?version=N`,
);
