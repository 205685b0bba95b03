/** Every command, in the order `sibyl --help` lists them. */
import type { CommandNode } from './command.js';
import { eventsCommand } from './commands/events.js';
import { inferCommand } from './commands/infer.js';
import { modelsGroup } from './commands/models.js';
import { poolsGroup } from './commands/pools.js';
import { deployCommand, rollbackCommand } from './commands/release.js';
import { routesGroup } from './commands/routes.js';
import { statusCommand } from './commands/status.js';
import { trafficGroup } from './commands/traffic.js';
import { versionsGroup } from './commands/versions.js';

export const COMMANDS: readonly CommandNode[] = Object.freeze([
  modelsGroup,
  versionsGroup,
  deployCommand,
  rollbackCommand,
  trafficGroup,
  eventsCommand,
  poolsGroup,
  routesGroup,
  inferCommand,
  statusCommand,
]);
