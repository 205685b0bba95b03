import { defineError } from '@sibyl/protocol';

/** Every app's configuration error: start-up stops with the message, which names the setting. */
export const configInvalid = defineError(
  'SIBYL_CONFIG_FLAG_INVALID',
  'INVALID_ARGUMENT',
  'A command-line flag or SIBYL_* environment variable has a value the server cannot use.',
  (setting: string, why: string) => `invalid setting ${setting}: ${why}`,
);
