/** `sibyl router`: the router app's entry point. */
import { runMain } from '@sibyl/gateway';
import { loadRouterConfig, routerHelp } from './config.js';
import { startRouterApp } from './router-app.js';

await runMain({ name: 'sibyl router', help: routerHelp, load: loadRouterConfig, start: (config) => startRouterApp(config) });
