/** `sibyl pools list|show|create|update|delete`: the backend pools routing rules send versions to. */
import { route } from '../api-client.js';
import { usageError } from '../cli-error.js';
import { emit, type CommandContext, type CommandGroup } from '../command.js';
import { listOption, stringOption } from '../option-spec.js';
import { poolsView, poolView } from '../views.js';
import type { Pool } from '../wire-types.js';

const KINDS = 'sibyl-onnx, sibyl-tf, triton, torchserve or pipeline';

const SOURCE_OPTIONS = {
  endpoint: { type: 'string', multiple: true, valueName: 'URL', help: 'A fixed instance, http://host:port or grpc://host:port; repeat for several' },
  discovery: { type: 'boolean', help: 'Use the live instances registered under the pool name instead of fixed endpoints' },
  description: { type: 'string', valueName: 'TEXT', help: 'What the pool is' },
} as const;

/** The body fields the source options give; `--endpoint` and `--discovery` exclude each other. */
function sourceFields(ctx: CommandContext): Record<string, unknown> {
  const endpoints = listOption(ctx.options, 'endpoint');
  const discovery = ctx.options['discovery'] === true;
  if (endpoints.length > 0 && discovery) throw usageError('--endpoint and --discovery exclude each other: a pool has one source of instances', ctx.usage);
  const body: Record<string, unknown> = {};
  if (endpoints.length > 0) body['endpoints'] = endpoints;
  if (discovery) body['discovery'] = true;
  const description = stringOption(ctx.options, 'description');
  if (description !== undefined) body['description'] = description;
  return body;
}

export const poolsGroup: CommandGroup = {
  kind: 'group',
  name: 'pools',
  summary: 'List, create, change and delete backend pools',
  commands: [
    {
      kind: 'command',
      name: 'list',
      summary: 'List backend pools and where their instances come from',
      args: [],
      options: {},
      async run(ctx) {
        const res = await ctx.management.request('GET', '/v1/pools');
        emit(ctx, res, () => poolsView((res.body as { pools?: Pool[] }).pools ?? []));
      },
    },
    {
      kind: 'command',
      name: 'show',
      summary: 'Show one pool',
      args: ['NAME'],
      options: {},
      async run(ctx) {
        const res = await ctx.management.request('GET', route`/v1/pools/${ctx.args['NAME']!}`);
        emit(ctx, res, () => poolView(res.body as Pool));
      },
    },
    {
      kind: 'command',
      name: 'create',
      summary: 'Create a pool with fixed endpoints or discovered instances',
      description: `--kind is one of ${KINDS}. Give --endpoint (once or more) or --discovery, not both.`,
      args: ['NAME'],
      options: { kind: { type: 'string', valueName: 'KIND', help: `Backend kind: ${KINDS}` }, ...SOURCE_OPTIONS },
      synopsis: '--kind KIND (--endpoint URL... | --discovery) [--description TEXT]',
      examples: [
        'sibyl pools create gpu --kind triton --endpoint grpc://triton-0:8001 --endpoint grpc://triton-1:8001',
        'sibyl pools create onnx-big --kind sibyl-onnx --discovery --description "Large ONNX models"',
      ],
      async run(ctx) {
        const kind = stringOption(ctx.options, 'kind');
        if (kind === undefined) throw usageError(`--kind is required (${KINDS})`, ctx.usage);
        const body: Record<string, unknown> = { name: ctx.args['NAME'], kind, ...sourceFields(ctx) };
        if (body['endpoints'] === undefined && body['discovery'] === undefined) {
          throw usageError('give --endpoint URL (once or more) or --discovery', ctx.usage);
        }
        const res = await ctx.management.request('POST', '/v1/pools', { json: body });
        emit(ctx, res, () => poolView(res.body as Pool));
      },
    },
    {
      kind: 'command',
      name: 'update',
      summary: "Change a pool's endpoints, discovery or description",
      description: '--endpoint replaces every endpoint (and turns discovery off); --discovery drops the endpoints. The kind never changes.',
      args: ['NAME'],
      options: SOURCE_OPTIONS,
      examples: ['sibyl pools update gpu --endpoint grpc://triton-2:8001'],
      async run(ctx) {
        const body = sourceFields(ctx);
        if (Object.keys(body).length === 0) throw usageError('nothing to change: give --endpoint, --discovery or --description', ctx.usage);
        const res = await ctx.management.request('PATCH', route`/v1/pools/${ctx.args['NAME']!}`, { json: body });
        emit(ctx, res, () => poolView(res.body as Pool));
      },
    },
    {
      kind: 'command',
      name: 'delete',
      summary: 'Delete a pool (refused while a routing rule names it)',
      args: ['NAME'],
      options: {},
      async run(ctx) {
        const name = ctx.args['NAME']!;
        const res = await ctx.management.request('DELETE', route`/v1/pools/${name}`);
        emit(ctx, res, () => `Deleted pool ${name}.\n`);
      },
    },
  ],
};
