/** @sibyl/router: the router app (`sibyl router`), as a library for the launchers and tests. */
export { loadRouterConfig, routerHelp, ROUTER_SETTINGS, type RouterConfig } from './config.js';
export { startRouterApp, ROUTER_VERSION, type RunningRouter } from './router-app.js';
