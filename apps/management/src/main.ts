/** `sibyl management`: the management app's entry point. */
import { runMain } from '@sibyl/gateway';
import { loadManagementConfig, managementHelp } from './management-config.js';
import { startManagementApp } from './management-app.js';

await runMain({ name: 'sibyl management', help: managementHelp, load: loadManagementConfig, start: (config) => startManagementApp(config) });
