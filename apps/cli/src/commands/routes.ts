/** `sibyl routes list|add|update|rm|explain`: the rules that pick a pool from a version's metadata. */
import { route } from '../api-client.js';
import { usageError } from '../cli-error.js';
import { emit, type CommandContext, type CommandGroup } from '../command.js';
import { parseKeyValue, parseVersion } from '../key-value.js';
import { listOption, stringOption } from '../option-spec.js';
import { explanationView, routesView, routeView } from '../views.js';
import type { Route, RouteExplanation, RouteMatch } from '../wire-types.js';

const GLOBS = '`*` any run of characters, `?` one; case-sensitive, whole value';

const MATCH_OPTIONS = {
  platform: { type: 'string', valueName: 'GLOB', help: "The version's platform, e.g. 'tensorflowjs_*'" },
  algorithm: { type: 'string', valueName: 'GLOB', help: "The model's algorithm" },
  name: { type: 'string', valueName: 'GLOB', help: 'The model name' },
  tenant: { type: 'string', valueName: 'GLOB', help: "The model's tenant" },
  label: { type: 'string', multiple: true, valueName: 'KEY=GLOB', help: 'A label the model must have; repeat for several' },
} as const;

const RULE_OPTIONS = {
  priority: { type: 'string', valueName: 'N', help: 'Lower is tried first' },
  pool: { type: 'string', valueName: 'POOL', help: 'Where matching versions go' },
  ...MATCH_OPTIONS,
  description: { type: 'string', valueName: 'TEXT', help: 'Why the rule exists' },
} as const;

function parsePriority(raw: string, usage: string): number {
  if (!/^-?[0-9]{1,10}$/.test(raw)) throw usageError(`--priority: expected a whole number, got '${raw}'`, usage);
  return Number(raw);
}

function parseRuleId(raw: string, usage: string): number {
  if (!/^[0-9]{1,10}$/.test(raw) || Number(raw) < 1) throw usageError(`ID: expected a rule id (1, 2, ...), got '${raw}'`, usage);
  return Number(raw);
}

/** The match the options give; undefined when no match option was given. */
function matchOf(ctx: CommandContext): RouteMatch | undefined {
  const match: RouteMatch = {};
  for (const field of ['platform', 'algorithm', 'name', 'tenant'] as const) {
    const value = stringOption(ctx.options, field);
    if (value !== undefined) match[field] = value;
  }
  const labels = listOption(ctx.options, 'label');
  if (labels.length > 0) match.labels = Object.fromEntries(labels.map((raw) => parseKeyValue('label', raw, ctx.usage)));
  return Object.keys(match).length === 0 ? undefined : match;
}

function ruleFields(ctx: CommandContext): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const priority = stringOption(ctx.options, 'priority');
  if (priority !== undefined) body['priority'] = parsePriority(priority, ctx.usage);
  const pool = stringOption(ctx.options, 'pool');
  if (pool !== undefined) body['pool'] = pool;
  const match = matchOf(ctx);
  if (match !== undefined) body['match'] = match;
  const description = stringOption(ctx.options, 'description');
  if (description !== undefined) body['description'] = description;
  return body;
}

export const routesGroup: CommandGroup = {
  kind: 'group',
  name: 'routes',
  summary: 'List, add, change, remove and explain routing rules',
  commands: [
    {
      kind: 'command',
      name: 'list',
      summary: 'List routing rules in the order they are tried',
      args: [],
      options: {},
      async run(ctx) {
        const res = await ctx.management.request('GET', '/v1/routes');
        emit(ctx, res, () => routesView((res.body as { routes?: Route[] }).routes ?? []));
      },
    },
    {
      kind: 'command',
      name: 'add',
      summary: 'Add a routing rule',
      description: `Every match option given must fit (globs: ${GLOBS}); a rule without any takes every version. The first rule that fits a version, by priority then id, names its pool.`,
      args: [],
      options: RULE_OPTIONS,
      examples: [
        "sibyl routes add --priority 100 --pool gpu --platform 'onnxruntime_*' --label tier=gold",
        "sibyl routes add --priority 10 --pool legacy --name 'legacy-*' --description 'Old models stay on the old boxes'",
      ],
      async run(ctx) {
        const body = ruleFields(ctx);
        if (body['priority'] === undefined) throw usageError('--priority is required', ctx.usage);
        if (body['pool'] === undefined) throw usageError('--pool is required', ctx.usage);
        const res = await ctx.management.request('POST', '/v1/routes', { json: body });
        emit(ctx, res, () => routeView(res.body as Route));
      },
    },
    {
      kind: 'command',
      name: 'update',
      summary: 'Change a routing rule',
      description:
        'Sets what the options give. Any match option replaces the whole match with the ones given. Refused (exit status 4) when a live, canary or shadow version would then match no rule.',
      args: ['ID'],
      options: RULE_OPTIONS,
      examples: ['sibyl routes update 7 --priority 50', "sibyl routes update 7 --platform 'tensorflowjs_*' --pool tf"],
      async run(ctx) {
        const id = parseRuleId(ctx.args['ID']!, ctx.usage);
        const body = ruleFields(ctx);
        if (Object.keys(body).length === 0) throw usageError('nothing to change: give --priority, --pool, a match option or --description', ctx.usage);
        const res = await ctx.management.request('PATCH', route`/v1/routes/${id}`, { json: body });
        emit(ctx, res, () => routeView(res.body as Route));
      },
    },
    {
      kind: 'command',
      name: 'rm',
      summary: 'Remove a routing rule (refused when a served version would match no rule)',
      args: ['ID'],
      options: {},
      async run(ctx) {
        const id = parseRuleId(ctx.args['ID']!, ctx.usage);
        const res = await ctx.management.request('DELETE', route`/v1/routes/${id}`);
        emit(ctx, res, () => `Removed routing rule ${id}.\n`);
      },
    },
    {
      kind: 'command',
      name: 'explain',
      summary: 'Show which rule routes a version, and why each rule does or does not match',
      args: ['MODEL'],
      options: { version: { type: 'string', valueName: 'N', help: 'The version to explain (default: the live one)' } },
      examples: ['sibyl routes explain iris', 'sibyl routes explain iris --version 3'],
      async run(ctx) {
        const raw = stringOption(ctx.options, 'version');
        const query = raw === undefined ? {} : { version: String(parseVersion('--version', raw, ctx.usage)) };
        const res = await ctx.management.request('GET', route`/v1/routes/explain/${ctx.args['MODEL']!}`, { query });
        emit(ctx, res, () => explanationView(res.body as RouteExplanation));
      },
    },
  ],
};
