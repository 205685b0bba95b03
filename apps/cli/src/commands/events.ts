/** `sibyl events MODEL`: the model's audit log. */
import { route } from '../api-client.js';
import { emit, type Command } from '../command.js';
import { eventsView } from '../views.js';
import type { AuditEvent } from '../wire-types.js';

export const eventsCommand: Command = {
  kind: 'command',
  name: 'events',
  summary: "Show a model's audit log: who changed what, when",
  args: ['MODEL'],
  options: {},
  async run(ctx) {
    const res = await ctx.management.request('GET', route`/v1/models/${ctx.args['MODEL']!}/events`);
    emit(ctx, res, () => eventsView((res.body as { events?: AuditEvent[] }).events ?? []));
  },
};
