/** `sibyl traffic show|set`: a model's canary (and its share of requests) and shadow. */
import { route } from '../api-client.js';
import { usageError } from '../cli-error.js';
import { emit, type CommandGroup } from '../command.js';
import { parseVersion } from '../key-value.js';
import { stringOption } from '../option-spec.js';
import { trafficView } from '../views.js';
import type { Traffic } from '../wire-types.js';

function parseWeight(raw: string, usage: string): number {
  const weight = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
    throw usageError(`--weight: expected a number from 0 to 1 (the canary's share), got '${raw}'`, usage);
  }
  return weight;
}

export const trafficGroup: CommandGroup = {
  kind: 'group',
  name: 'traffic',
  summary: "Show and set a model's canary and shadow versions",
  commands: [
    {
      kind: 'command',
      name: 'show',
      summary: 'Show the live, canary and shadow versions of a model',
      args: ['MODEL'],
      options: {},
      async run(ctx) {
        const res = await ctx.management.request('GET', route`/v1/models/${ctx.args['MODEL']!}/traffic`);
        emit(ctx, res, () => trafficView(res.body as Traffic));
      },
    },
    {
      kind: 'command',
      name: 'set',
      summary: 'Set or clear the canary (with its weight) and the shadow',
      description:
        'The canary gets --weight (0 to 1) of the requests without a version; the shadow gets a copy of each, its answer discarded. ' +
        'Refused (exit status 4) with nothing live, or for a retired, failed or live version. `sibyl deploy MODEL CANARY` promotes the canary.',
      args: ['MODEL'],
      options: {
        canary: { type: 'string', valueName: 'VERSION', help: 'The canary version' },
        weight: { type: 'string', valueName: 'W', help: "The canary's share of requests without a version, 0 to 1" },
        shadow: { type: 'string', valueName: 'VERSION', help: 'The shadow version' },
        'clear-canary': { type: 'boolean', help: 'No canary any more' },
        'clear-shadow': { type: 'boolean', help: 'No shadow any more' },
      },
      synopsis: '[--canary VERSION --weight W | --clear-canary] [--shadow VERSION | --clear-shadow]',
      examples: ['sibyl traffic set iris --canary 3 --weight 0.1', 'sibyl traffic set iris --shadow 4', 'sibyl traffic set iris --clear-canary --clear-shadow'],
      async run(ctx) {
        const body: Record<string, unknown> = {};
        const canary = stringOption(ctx.options, 'canary');
        const weight = stringOption(ctx.options, 'weight');
        const shadow = stringOption(ctx.options, 'shadow');
        const clearCanary = ctx.options['clear-canary'] === true;
        const clearShadow = ctx.options['clear-shadow'] === true;
        if (canary !== undefined && clearCanary) throw usageError('--canary and --clear-canary exclude each other', ctx.usage);
        if (weight !== undefined && clearCanary) throw usageError('--weight and --clear-canary exclude each other', ctx.usage);
        if (shadow !== undefined && clearShadow) throw usageError('--shadow and --clear-shadow exclude each other', ctx.usage);
        if (canary !== undefined) body['canary_version'] = parseVersion('--canary', canary, ctx.usage);
        if (clearCanary) body['canary_version'] = null;
        if (weight !== undefined) body['canary_weight'] = parseWeight(weight, ctx.usage);
        if (shadow !== undefined) body['shadow_version'] = parseVersion('--shadow', shadow, ctx.usage);
        if (clearShadow) body['shadow_version'] = null;
        if (Object.keys(body).length === 0) throw usageError('nothing to set: give --canary, --weight, --shadow, --clear-canary or --clear-shadow', ctx.usage);
        const res = await ctx.management.request('PUT', route`/v1/models/${ctx.args['MODEL']!}/traffic`, { json: body });
        emit(ctx, res, () => trafficView(res.body as Traffic));
      },
    },
  ],
};
