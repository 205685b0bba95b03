/** How a command declares one option: what `node:util` parseArgs needs, plus what --help prints. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Repeatable (`--label a=1 --label b=2`); the values arrive as an array. */
  readonly multiple?: boolean;
  /** Placeholder in help, e.g. `URL` in `--url URL`. */
  readonly valueName?: string;
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export type OptionValues = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listOption(values: OptionValues, name: string): readonly string[] {
  const value = values[name];
  if (Array.isArray(value)) return value as readonly string[];
  return typeof value === 'string' ? [value] : [];
}
