/** `sibyl deploy MODEL VERSION` and `sibyl rollback MODEL`: which version of a model serves requests. */
import { route } from '../api-client.js';
import { emit, type Command } from '../command.js';
import { parseVersion } from '../key-value.js';
import { releaseView } from '../views.js';
import type { Release } from '../wire-types.js';

export const deployCommand: Command = {
  kind: 'command',
  name: 'deploy',
  summary: 'Make a version live: requests without a version go to it',
  description: 'Serving switches within a second, without a restart; in-flight requests finish on the version they started on.',
  args: ['MODEL', 'VERSION'],
  options: {},
  examples: ['sibyl deploy iris 2'],
  async run(ctx) {
    const version = parseVersion('VERSION', ctx.args['VERSION']!, ctx.usage);
    const res = await ctx.management.request('POST', route`/v1/models/${ctx.args['MODEL']!}/deploy`, { json: { version } });
    emit(ctx, res, () => releaseView('deploy', res.body as Release));
  },
};

export const rollbackCommand: Command = {
  kind: 'command',
  name: 'rollback',
  summary: 'Make the previously live version live again',
  description: 'Refused (exit status 4) when the model has no previous version.',
  args: ['MODEL'],
  options: {},
  async run(ctx) {
    const res = await ctx.management.request('POST', route`/v1/models/${ctx.args['MODEL']!}/rollback`);
    emit(ctx, res, () => releaseView('rollback', res.body as Release));
  },
};
