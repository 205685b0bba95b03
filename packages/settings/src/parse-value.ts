/**
 * From a raw string (a flag, a variable, or the default) to a setting's value, one case per kind.
 * Every refusal is SIBYL_CONFIG_FLAG_INVALID naming the setting, its flag and its variable.
 */
import { statSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import { configInvalid } from './errors.js';
import type { SettingDeclaration } from './setting.js';

/** `512Mi`, `2 GiB`, `64M`, `1e3` is not: multipliers of the `bytes` kind. */
const BYTE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 2 ** 10,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mi: 2 ** 20,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gi: 2 ** 30,
  gib: 2 ** 30,
  t: 1e12,
  tb: 1e12,
  ti: 2 ** 40,
  tib: 2 ** 40,
};

/** "a, b or c" */
function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** The setting as an error names it: `httpPort (--http-port / SIBYL_HTTP_PORT)`. */
export function settingLabel(name: string, setting: SettingDeclaration): string {
  return `${name} (--${setting.flag} / ${setting.env})`;
}

function integer(where: string, setting: SettingDeclaration, text: string, n: number): number {
  if (!Number.isSafeInteger(n)) throw configInvalid(where, `${text} is too large`);
  if (setting.kind === 'port' && n > 65535) throw configInvalid(where, `port ${n} is above 65535`);
  if (setting.min !== undefined && n < setting.min) throw configInvalid(where, `expected at least ${setting.min}, got ${n}`);
  return n;
}

function directoryOrMissing(where: string, dir: string): void {
  let isDirectory = true;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // Missing: created at start-up.
  }
  if (!isDirectory) throw configInvalid(where, `${dir} exists and is not a directory`);
}

/**
 * Parses `raw` (the last one when a flag was repeated, except for `paths` and `names`). Returns undefined for an
 * empty value of a setting where empty means unset.
 */
export function parseValue(name: string, setting: SettingDeclaration, raw: string | readonly string[]): unknown {
  const where = settingLabel(name, setting);
  const one = typeof raw === 'string' ? raw : raw[raw.length - 1]!;
  const text = one.trim();
  if (text === '' && setting.kind !== 'paths' && setting.kind !== 'names') {
    if (setting.required === true) throw configInvalid(where, `a value is required: ${setting.help}`);
    if (setting.optional === true || setting.kind === 'url') return undefined;
  }
  switch (setting.kind) {
    case 'names': {
      const list = typeof raw === 'string' ? raw.split(',') : raw;
      const names = [...new Set(list.map((n) => n.trim()).filter((n) => n.length > 0))];
      const bad = setting.pattern === undefined ? undefined : names.find((n) => !setting.pattern!.test(n));
      if (bad !== undefined) throw configInvalid(where, `'${bad}' does not match ${String(setting.pattern)}`);
      return Object.freeze(names);
    }
    case 'paths': {
      const list = typeof raw === 'string' ? raw.split(delimiter) : raw;
      const paths = list.map((p) => p.trim()).filter((p) => p.length > 0);
      if (paths.length === 0) {
        if (setting.optional === true) return Object.freeze([]);
        throw configInvalid(where, 'expected at least one directory');
      }
      const resolved = paths.map((p) => resolve(p));
      for (const dir of resolved) {
        let isDirectory = false;
        try {
          isDirectory = statSync(dir).isDirectory();
        } catch (err) {
          throw configInvalid(where, `cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        if (!isDirectory) throw configInvalid(where, `${dir} is not a directory`);
      }
      return Object.freeze(resolved);
    }
    case 'port':
    case 'int': {
      if (!/^\d+$/.test(text)) throw configInvalid(where, `expected a non-negative integer, got '${one}'`);
      return integer(where, setting, text, Number(text));
    }
    case 'bytes': {
      const m = /^(\d+)\s*([a-z]*)$/i.exec(text);
      const unit = m === null ? undefined : BYTE_UNITS[m[2]!.toLowerCase()];
      if (m === null || unit === undefined) {
        throw configInvalid(where, `expected a number of bytes such as 67108864, 512Mi or 2Gi, got '${one}'`);
      }
      return integer(where, setting, text, Number(m[1]) * unit);
    }
    case 'path': {
      if (text === '') throw configInvalid(where, 'must not be empty');
      const dir = resolve(text);
      directoryOrMissing(where, dir);
      return dir;
    }
    case 'url': {
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw configInvalid(where, `expected a URL such as ${setting.example ?? `${setting.schemes?.[0] ?? 'http:'}//host`}`);
      }
      const schemes = setting.schemes;
      if (schemes !== undefined && !schemes.includes(url.protocol)) {
        throw configInvalid(where, `expected a ${orList(schemes.map((s) => `${s}//`))} URL, got a ${url.protocol.replace(/:$/, '')} URL`);
      }
      return text;
    }
    case 'address': {
      const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d+)$/.exec(text);
      if (m === null) throw configInvalid(where, `expected host:port, got '${one}'`);
      const port = Number(m[2]);
      if (port > 65535) throw configInvalid(where, `port ${port} is above 65535`);
      return `${m[1]}:${port}`;
    }
    case 'bool': {
      const v = text.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      throw configInvalid(where, `expected true or false, got '${one}'`);
    }
    case 'enum': {
      if (!setting.choices!.includes(one)) throw configInvalid(where, `expected one of ${setting.choices!.join(', ')}, got '${one}'`);
      return one;
    }
    case 'string': {
      if (text === '') throw configInvalid(where, 'must not be empty');
      if (setting.pattern !== undefined && !setting.pattern.test(text)) {
        throw configInvalid(where, `'${one}' does not match ${String(setting.pattern)}`);
      }
      return text;
    }
  }
}
