/** `sibyl gateway`: the gateway app's entry point. */
import { gatewayHelp, loadGatewayConfig } from './gateway-config.js';
import { startGatewayApp } from './gateway-app.js';
import { runMain } from './run-main.js';

await runMain({ name: 'sibyl gateway', help: gatewayHelp, load: loadGatewayConfig, start: (config) => startGatewayApp(config) });
