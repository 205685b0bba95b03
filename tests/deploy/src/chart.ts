/**
 * What the deploy tests read: the chart's files, values merged as Helm merges them, the schema
 * compiled by ajv (draft-07), and the templates as text (Go templates are not YAML).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CHART = `${ROOT}deploy/helm/sibyl/`;
export const DOCKER = `${ROOT}deploy/docker/`;

export type Values = Record<string, unknown>;
export type Schema = Record<string, unknown> & {
  $ref?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  definitions?: Record<string, Schema>;
  description?: string;
  required?: string[];
};

export const read = (path: string): string => readFileSync(path, 'utf8');
export const readYaml = (path: string): Values => parse(read(path)) as Values;

export const defaultValues = (): Values => readYaml(`${CHART}values.yaml`);
export const schema = (): Schema => JSON.parse(read(`${CHART}values.schema.json`)) as Schema;

export const exampleFiles = (): string[] =>
  readdirSync(`${CHART}examples`)
    .filter((name) => name.endsWith('.yaml'))
    .sort();

export const isObject = (value: unknown): value is Values =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Helm's coalescing of user values over the chart's: maps merge key by key, anything else (lists,
 * scalars) replaces, and a null deletes the key.
 */
export function mergeValues(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else if (isObject(value) && isObject(out[key])) out[key] = mergeValues(out[key] as Values, value);
    else out[key] = value;
  }
  return out;
}

/** The values a release installed with `-f examples/<file>` gets. */
export const valuesWithExample = (file: string): Values => mergeValues(defaultValues(), readYaml(`${CHART}examples/${file}`));

export function compileSchema(): ValidateFunction {
  // strict: unknown keywords and formats are errors; union types are declared on purpose (quantities).
  const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
  return ajv.compile(schema());
}

/** Follows a local `$ref` (`#/definitions/x`). */
export function resolveRef(root: Schema, node: Schema): Schema {
  if (node.$ref === undefined) return node;
  const match = /^#\/definitions\/([A-Za-z0-9_-]+)$/.exec(node.$ref);
  if (!match) throw new Error(`unsupported $ref ${node.$ref}`);
  const target = root.definitions?.[match[1]!];
  if (!target) throw new Error(`$ref ${node.$ref} names no definition`);
  return resolveRef(root, target);
}

/** Template files by name, with their text. */
export function templates(): Map<string, string> {
  const dir = `${CHART}templates/`;
  return new Map(readdirSync(dir).sort().map((name) => [name, read(dir + name)]));
}

export function template(name: string): string {
  const text = templates().get(name);
  if (text === undefined) throw new Error(`no template ${name}`);
  return text;
}

/**
 * The block of a YAML key in template text: the key's line and every following line indented
 * deeper. Enough for blocks written plainly (probes, ports), without a Go template renderer.
 */
export function block(text: string, key: string): string | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => new RegExp(`^\\s*(- )?${key}:`).test(line));
  if (start < 0) return undefined;
  const indent = lines[start]!.search(/\S/);
  const out = [lines[start]!];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() !== '' && line.search(/\S/) <= indent) break;
    out.push(line);
  }
  return out.join('\n');
}

/** `containerPort` of the container port named `name`, as written in a template. */
export function containerPort(text: string, name: string): number | undefined {
  const match = new RegExp(`- name: ${name}\\n\\s+containerPort: (\\d+)`).exec(text);
  return match ? Number(match[1]) : undefined;
}

/** Bytes of a Kubernetes quantity (memory): 512Mi, 4Gi, 1G, 1000. */
export function quantityBytes(quantity: string | number): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(quantity));
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  const units: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(match[1]) * units[match[2] ?? '']!;
}
