export * from './metrics.js';
export * from './logger.js';
export * from './collected.js';
export * from './histogram.js';
