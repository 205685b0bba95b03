import { pino, type Logger } from 'pino';
import { createRequire } from 'node:module';
import type PinoPretty from 'pino-pretty';

// pino-pretty is loaded only for text logs: a process logging JSON never holds it in memory.
const require = createRequire(import.meta.url);

export type { Logger };

export interface LoggerOptions {
  /** Triton's --log-verbose: 0 logs info and up, 1 or more logs debug. Default 0. */
  verbose?: number;
  /** `text`: one readable line per event; `json`: one JSON object per line. Default json. */
  format?: 'text' | 'json';
  /** Service name written on every line. */
  name?: string;
  /** Where lines go; default stdout. */
  destination?: NodeJS.WritableStream;
}

/**
 * pino JSON lines with the level as a word, or the same events as readable text lines. Fields given
 * with a message (listener, port, model, version...) stay machine-readable in both formats.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = (options.verbose ?? 0) > 0 ? 'debug' : 'info';
  const base = { name: options.name ?? 'sibyl' };
  const destination = options.destination ?? process.stdout;
  if (options.format === 'text') {
    const pretty = require('pino-pretty') as typeof PinoPretty;
    const stream = pretty({
      destination,
      sync: true,
      colorize: false,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'pid,hostname,name',
      singleLine: true,
    });
    return pino({ level, base }, stream);
  }
  return pino({ level, base, formatters: { level: (label: string) => ({ level: label }) } }, destination);
}
