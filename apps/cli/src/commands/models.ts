/** `sibyl models list|show|create|delete`. */
import { route } from '../api-client.js';
import { emit, type CommandGroup } from '../command.js';
import { parseKeyValue } from '../key-value.js';
import { listOption, stringOption } from '../option-spec.js';
import { modelsView, modelView } from '../views.js';
import type { Model } from '../wire-types.js';

export const modelsGroup: CommandGroup = {
  kind: 'group',
  name: 'models',
  summary: 'Register, list, inspect and delete models',
  commands: [
    {
      kind: 'command',
      name: 'list',
      summary: 'List models with their live and previous versions',
      args: [],
      options: {},
      async run(ctx) {
        const res = await ctx.management.request('GET', '/v1/models');
        emit(ctx, res, () => modelsView((res.body as { models?: Model[] }).models ?? []));
      },
    },
    {
      kind: 'command',
      name: 'show',
      summary: 'Show one model',
      args: ['NAME'],
      options: {},
      async run(ctx) {
        const res = await ctx.management.request('GET', route`/v1/models/${ctx.args['NAME']!}`);
        emit(ctx, res, () => modelView(res.body as Model));
      },
    },
    {
      kind: 'command',
      name: 'create',
      summary: 'Register a model (its versions are uploaded with `sibyl versions upload`)',
      args: ['NAME'],
      options: {
        description: { type: 'string', valueName: 'TEXT', help: 'What the model does' },
        label: { type: 'string', multiple: true, valueName: 'KEY=VALUE', help: 'A label; repeat for several' },
        platform: { type: 'string', valueName: 'PLATFORM', help: 'Framework or runtime, e.g. onnxruntime_onnx' },
        algorithm: { type: 'string', valueName: 'NAME', help: 'Algorithm, e.g. random_forest' },
        tenant: { type: 'string', valueName: 'NAME', help: 'Owning tenant (the server picks the default)' },
      },
      examples: ['sibyl models create iris --description "Iris classifier" --label team=vision --label tier=gold'],
      async run(ctx) {
        const labels = Object.fromEntries(listOption(ctx.options, 'label').map((raw) => parseKeyValue('label', raw, ctx.usage)));
        const body: Record<string, unknown> = { name: ctx.args['NAME'] };
        for (const field of ['description', 'platform', 'algorithm', 'tenant']) {
          const value = stringOption(ctx.options, field);
          if (value !== undefined) body[field] = value;
        }
        if (Object.keys(labels).length > 0) body['labels'] = labels;
        const res = await ctx.management.request('POST', '/v1/models', { json: body });
        emit(ctx, res, () => modelView(res.body as Model));
      },
    },
    {
      kind: 'command',
      name: 'delete',
      summary: 'Delete a model and its versions (refused while a version is live)',
      args: ['NAME'],
      options: {},
      async run(ctx) {
        const name = ctx.args['NAME']!;
        const res = await ctx.management.request('DELETE', route`/v1/models/${name}`);
        emit(ctx, res, () => `Deleted model ${name}.\n`);
      },
    },
  ],
};
