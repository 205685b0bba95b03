/** `npm start` / `sibyl all-in-one` / `sibyl-server`: the all-in-one server under the shared process shell. */
import { runMain } from '@sibyl/gateway';
import { helpText, loadConfig } from './config.js';
import { startSibyl } from './server.js';

await runMain({
  name: 'sibyl',
  help: helpText,
  load: (argv) => loadConfig(argv).config,
  start: (config) => startSibyl(config),
});
