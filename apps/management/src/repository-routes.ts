/**
 * Triton's model repository extension on the management port (spec/protocols.md §D.2): index, load
 * and unload, adapted onto the serving side the app attaches. Without one they answer 503.
 *
 * A load with `file:` parameters first stores the files as a new version of the model (the model is
 * created when missing), through the same path as an upload: artifact store, runtime check,
 * registry. Serving then makes that version live and loads it.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { actorOf } from './actor.js';
import { repositoryUnavailable } from './errors.js';
import { parseLoadParameters, type LoadFile } from './load-parameters.js';
import { ERROR_RESPONSES, NAME_PARAMS, closed, optionalBody, ref } from './schemas.js';
import type { ManagementServing } from './server-options.js';
import { tarGz } from './tar-gz.js';
import type { VersionUploader } from './version-upload.js';

interface NameParams {
  name: string;
}

const TAGS = ['repository'];
const EMPTY_OK = { 200: { type: 'null', description: 'Done (an empty body, as Triton answers).' }, ...ERROR_RESPONSES };

export interface RepositoryRouteOptions {
  uploader: VersionUploader;
  serving: ManagementServing | undefined;
  /** Body limit of a load, bytes (its files travel in it as base64). */
  maxLoadBodyBytes: number;
}

export function registerRepositoryRoutes(app: FastifyInstance, options: RepositoryRouteOptions): void {
  const { uploader } = options;
  const servingFor = (route: string): ManagementServing => {
    if (options.serving === undefined) throw repositoryUnavailable(route);
    return options.serving;
  };

  app.post<{ Body: { ready?: boolean } | undefined }>('/v2/repository/index', {
    schema: {
      tags: TAGS,
      summary: 'Repository index (Triton)',
      description: 'Every model and version serving knows, with its state; `{"ready": true}` keeps the READY ones. The body is optional.',
      body: optionalBody({ ready: { type: 'boolean' } }),
      response: { 200: { type: 'array', items: ref('RepositoryIndexEntry') }, ...ERROR_RESPONSES },
    },
    handler: async (request) => {
      const entries = await servingFor('POST /v2/repository/index').repositoryIndex();
      return request.body?.ready === true ? entries.filter((e) => e.state === 'READY') : entries;
    },
  });

  app.post<{ Params: NameParams; Body: { parameters?: Record<string, unknown> } | undefined }>('/v2/repository/models/:name/load', {
    bodyLimit: options.maxLoadBodyBytes,
    schema: {
      tags: TAGS,
      summary: 'Load a model (Triton)',
      description:
        'Makes the model serve. Parameters (all strings): `config`, the JSON of a model config that overrides the stored one; ' +
        '`file:<version>/<path>`, the base64 content of a model file (requires `config`). With files, they are stored as the ' +
        "model's next version (created when missing), checked by loading them in the runtime, then deployed and loaded.",
      params: NAME_PARAMS,
      body: optionalBody({ parameters: { type: 'object', additionalProperties: true } }),
      response: EMPTY_OK,
    },
    handler: async (request, reply) => {
      const serving = servingFor('POST /v2/repository/models/{name}/load');
      const { name } = request.params;
      const actor = actorOf(request);
      const { config, files } = parseLoadParameters(request.body?.parameters);
      let version: number | undefined;
      if (files.length > 0) {
        const { filename, bytes } = packFiles(name, files);
        const result = await uploader.upload({
          model: name,
          source: Readable.from([bytes]),
          filename,
          createModel: true,
          actor,
          ...(config === undefined ? {} : { config }),
        });
        version = result.version.version;
      }
      await serving.load(name, { ...(version === undefined ? {} : { version }), ...(config === undefined ? {} : { config }), actor });
      return reply.code(200).send();
    },
  });

  app.post<{ Params: NameParams; Body: { parameters?: { unload_dependents?: boolean } } | undefined }>('/v2/repository/models/:name/unload', {
    schema: {
      tags: TAGS,
      summary: 'Unload a model (Triton)',
      description: 'Stops serving the model. The body is optional; `unload_dependents` is accepted as in Triton.',
      params: NAME_PARAMS,
      body: optionalBody({ parameters: closed({ unload_dependents: { type: 'boolean' } }) }),
      response: EMPTY_OK,
    },
    handler: async (request, reply) => {
      const serving = servingFor('POST /v2/repository/models/{name}/unload');
      const unloadDependents = request.body?.parameters?.unload_dependents === true;
      await serving.unload(request.params.name, { unloadDependents, actor: actorOf(request) });
      return reply.code(200).send();
    },
  });
}

/** One top-level file is stored as it is; several files, or nested ones, as a directory (.tar.gz). */
function packFiles(model: string, files: readonly LoadFile[]): { filename: string; bytes: Buffer } {
  const only = files.length === 1 ? files[0]! : undefined;
  if (only !== undefined && !only.path.includes('/')) return { filename: only.path, bytes: only.content };
  return { filename: `${model}.tar.gz`, bytes: tarGz(files.map((f) => ({ name: f.path, content: f.content }))) };
}
