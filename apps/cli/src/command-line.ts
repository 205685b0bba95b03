/**
 * Reads the command line: finds the command in the tree, then parses every option with
 * `node:util` parseArgs against the global options plus the command's own, so options may come
 * before or after the command words. Every mistake is a usage error (exit status 2) with the usage
 * line of the command as far as it was recognised.
 */
import { parseArgs } from 'node:util';
import { usageError } from './cli-error.js';
import type { Command, CommandGroup, CommandNode } from './command.js';
import { COMMANDS } from './command-tree.js';
import { commandHelp, commandUsage, groupHelp, groupUsage, ROOT_USAGE, rootHelp } from './help.js';
import type { OptionSpecs, OptionValues } from './option-spec.js';
import { GLOBAL_OPTIONS } from './settings.js';

export type ParsedCommandLine =
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' }
  | {
      readonly kind: 'run';
      readonly command: Command;
      readonly path: readonly string[];
      readonly args: Readonly<Record<string, string>>;
      readonly options: OptionValues;
      readonly usage: string;
    };

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function suggestion(word: string, candidates: readonly string[]): string {
  const close = candidates.filter((c) => distance(word, c) <= 2 || c.startsWith(word));
  return close.length === 0 ? '' : `; did you mean ${close.map((c) => `'${c}'`).join(' or ')}?`;
}

function takesValue(arg: string): boolean {
  if (arg.startsWith('--')) return GLOBAL_OPTIONS[arg.slice(2)]?.type === 'string';
  const short = arg.slice(1);
  return Object.values(GLOBAL_OPTIONS).some((spec) => spec.short === short && spec.type === 'string');
}

interface Located {
  node: CommandNode | undefined;
  path: string[];
}

/** The command words: the first positionals, read with only the global options known. */
function locate(argv: readonly string[]): Located {
  let node: CommandNode | undefined;
  const path: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg.startsWith('-') && arg !== '-') {
      if (!arg.includes('=') && takesValue(arg)) i += 1;
      continue;
    }
    if (node === undefined) {
      node = COMMANDS.find((c) => c.name === arg);
      if (node === undefined) throw usageError(`unknown command '${arg}'${suggestion(arg, COMMANDS.map((c) => c.name))}`, ROOT_USAGE);
      path.push(arg);
      if (node.kind === 'command') break;
    } else if (node.kind === 'group') {
      const group: CommandGroup = node;
      const sub = group.commands.find((c) => c.name === arg);
      if (sub === undefined) {
        throw usageError(`unknown command '${group.name} ${arg}'${suggestion(arg, group.commands.map((c) => c.name))}`, groupUsage(group));
      }
      node = sub;
      path.push(arg);
      break;
    }
  }
  return { node, path };
}

function usageOf(node: CommandNode | undefined, path: readonly string[]): string {
  if (node === undefined) return ROOT_USAGE;
  return node.kind === 'group' ? groupUsage(node) : commandUsage(path, node);
}

function parseArgsOptions(specs: OptionSpecs) {
  return Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      { type: spec.type, ...(spec.short === undefined ? {} : { short: spec.short }), ...(spec.multiple === true ? { multiple: true } : {}) },
    ]),
  );
}

export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  const { node, path } = locate(argv);
  const command = node?.kind === 'command' ? node : undefined;
  const usage = usageOf(node, path);
  const specs: OptionSpecs = { ...GLOBAL_OPTIONS, ...command?.options };
  // strict: false so that each mistake gets a message of ours, checked token by token below.
  const { values, positionals, tokens } = parseArgs({
    args: [...argv],
    options: parseArgsOptions(specs),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  if (values['help'] === true) {
    if (node === undefined) return { kind: 'help', text: rootHelp() };
    return { kind: 'help', text: node.kind === 'group' ? groupHelp(node) : commandHelp(path, node) };
  }

  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = specs[token.name];
    if (spec === undefined) {
      const names = Object.keys(specs);
      throw usageError(`unknown option '${token.rawName}'${suggestion(token.name, names).replace(/'([^']+)'/g, "'--$1'")}`, usage);
    }
    if (spec.type === 'string') {
      if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-') && token.value !== '-')) {
        throw usageError(`option '${token.rawName}' needs a value${token.value === undefined ? '' : ` (write ${token.rawName}=${token.value} for one that starts with '-')`}`, usage);
      }
    } else if (token.inlineValue === true) {
      throw usageError(`option '${token.rawName}' takes no value`, usage);
    }
  }

  if (values['version'] === true) return { kind: 'version' };
  if (node === undefined) throw usageError('missing command', usage);
  if (node.kind === 'group') {
    throw usageError(`missing command after '${node.name}': one of ${node.commands.map((c) => c.name).join(', ')}`, usage);
  }

  const words = positionals.slice(0, path.length);
  if (words.join(' ') !== path.join(' ')) throw usageError(`options of '${path.join(' ')}' must follow the command`, usage);
  const rest = positionals.slice(path.length);
  const missing = node.args.slice(rest.length);
  if (missing.length > 0) throw usageError(`missing argument${missing.length > 1 ? 's' : ''} ${missing.join(' ')}`, usage);
  if (rest.length > node.args.length) throw usageError(`unexpected argument '${rest[node.args.length]}'`, usage);
  const args = Object.fromEntries(node.args.map((name, i) => [name, rest[i]!]));
  return { kind: 'run', command: node, path, args, options: values as OptionValues, usage };
}
