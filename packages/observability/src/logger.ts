import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Triton's --log-verbose level: 0 logs info and up, 1 or more logs debug. Default 0. */
  verbose?: number;
  /** Service name written on every line. */
  name?: string;
  /** Where lines go; default stdout. */
  destination?: NodeJS.WritableStream;
}

/** JSON lines (pino) with the level as a word, so operators can grep them. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = (options.verbose ?? 0) > 0 ? 'debug' : 'info';
  const base = { name: options.name ?? 'sibyl' };
  const formatters = { level: (label: string) => ({ level: label }) };
  return options.destination
    ? pino({ level, base, formatters }, options.destination)
    : pino({ level, base, formatters });
}
