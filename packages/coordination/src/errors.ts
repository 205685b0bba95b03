/**
 * The coordination package's coded errors.
 *
 * Reading the live set never fails (`instances()` answers from the last known set); what can fail is
 * configuration (stops start-up, names the option), a second registration of one id, and the calls
 * that need Redis now (publish, subscribe) while it is unreachable.
 */
import { defineError } from '@sibyl/protocol';

export const optionInvalid = defineError(
  'SIBYL_COORDINATION_OPTION_INVALID',
  'INVALID_ARGUMENT',
  'An option of the coordination store or of one registration is missing or out of range.',
  (option: string, detail: string) => `coordination option '${option}': ${detail}`,
);

export const instanceExists = defineError(
  'SIBYL_COORDINATION_INSTANCE_EXISTS',
  'CONFLICT',
  'An instance id is registered twice in one process.',
  (id: string) => `instance '${id}' is already registered by this process; deregister it first`,
);

export const coordinationClosed = defineError(
  'SIBYL_COORDINATION_CLOSED',
  'UNAVAILABLE',
  'The coordination store was closed (the process is shutting down).',
  (operation: string) => `cannot ${operation}: coordination is closed`,
);

export const coordinationUnavailable = defineError(
  'SIBYL_COORDINATION_UNAVAILABLE',
  'UNAVAILABLE',
  'Redis, which holds live instances and carries pub/sub, cannot be reached.',
  (operation: string, detail: string) => `cannot ${operation}: redis unavailable (${detail})`,
);
