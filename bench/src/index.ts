/** The bench's reusable parts: the results shape, latency summaries and the binary-extension client codec. */
export * from './binary-extension.js';
export type * from './load-spec.js';
export type * from './results.js';
export * from './stats.js';
