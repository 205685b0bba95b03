/** `sibyl status`: the management server's own summary. */
import { emit, type Command } from '../command.js';
import { statusView } from '../views.js';

export const statusCommand: Command = {
  kind: 'command',
  name: 'status',
  summary: 'Show the server: version, readiness, model and version counts',
  args: [],
  options: {},
  async run(ctx) {
    const res = await ctx.management.request('GET', '/v1/status');
    emit(ctx, res, () => statusView((res.body ?? {}) as Record<string, unknown>));
  },
};
