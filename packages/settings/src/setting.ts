/**
 * What a setting is: its flag, its variables, its kind (how a raw string becomes a value), its
 * default and its help line. An app declares a table of these once (`defineSettings`); the reader,
 * `--help` and the docs tests all work from that table.
 */

export type SettingKind =
  /** TCP port, 0-65535 (0: the system picks one). */
  | 'port'
  /** Non-negative integer, at least `min`. */
  | 'int'
  /** Non-negative integer of bytes; accepts `512Mi`, `2Gi`, `64M` (K/M/G/T are powers of 1000, Ki/Mi/Gi/Ti of 1024). */
  | 'bytes'
  /** true/false, 1/0, yes/no, on/off. */
  | 'bool'
  /** Non-empty text, trimmed; checked against `pattern` when given. */
  | 'string'
  /** One of `choices`. */
  | 'enum'
  /** A directory, resolved against the working directory; created later when missing, refused when a file. */
  | 'path'
  /** Existing directories, repeatable (the variable takes a path-delimiter-separated list). */
  | 'paths'
  /** Names, repeatable (the variable takes a comma-separated list); each checked against `pattern` when given; none is an empty list. */
  | 'names'
  /** A URL with one of `schemes`; empty means unset unless `required`. */
  | 'url'
  /** `host:port` (a bracketed IPv6 host is allowed), port 0-65535. */
  | 'address';

export interface SettingDeclaration {
  /** Flag name without the dashes, e.g. `http-port`. */
  readonly flag: string;
  /** Environment variable, e.g. `SIBYL_HTTP_PORT`. */
  readonly env: string;
  /** A second variable read when `env` is unset (DATABASE_URL, REDIS_URL: DESIGN.md §4). */
  readonly fallbackEnv?: string;
  readonly kind: SettingKind;
  /** The values an `enum` takes. */
  readonly choices?: readonly string[];
  /** Smallest value of an `int` or `bytes`. */
  readonly min?: number;
  /** The schemes a `url` takes, with their colon: `['postgres:', 'postgresql:']`. Default: any. */
  readonly schemes?: readonly string[];
  /** Shown when a `url` does not parse: `postgres://user@host:5432/database`. */
  readonly example?: string;
  /** A `string` must match it. */
  readonly pattern?: RegExp;
  /** A `url` (or any kind) left empty stops start-up instead of meaning "unset". Default false. */
  readonly required?: boolean;
  /** An empty value means unset (`undefined`) rather than an error. Always so for a `url` that is not required. */
  readonly optional?: boolean;
  readonly help: string;
  /** The raw default, parsed like any given value; '' for none. */
  readonly default: string;
  /** How --help and the docs show the default, when not the raw value (a computed or unset default). */
  readonly shownDefault?: string;
}

export type SettingsTable = Readonly<Record<string, SettingDeclaration>>;

type Base<S extends SettingDeclaration> = S['kind'] extends 'port' | 'int' | 'bytes'
  ? number
  : S['kind'] extends 'bool'
    ? boolean
    : S['kind'] extends 'paths' | 'names'
      ? readonly string[]
      : S['kind'] extends 'enum'
        ? S['choices'] extends readonly (infer C)[]
          ? C
          : string
        : string;

/** The value type a declaration reads to: `undefined` is possible only where an empty value means unset. */
export type SettingValue<S extends SettingDeclaration> = S extends { required: true }
  ? Base<S>
  : S extends { optional: true }
    ? Base<S> | undefined
    : S['kind'] extends 'url'
      ? string | undefined
      : Base<S>;

/** What `readSettings(table)` returns: one readonly property per setting. */
export type Settings<T extends SettingsTable> = { readonly [K in keyof T]: SettingValue<T[K]> };
