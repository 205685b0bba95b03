/** Usage lines and --help pages, generated from the command tree and the option declarations. */
import type { Command, CommandGroup, CommandNode } from './command.js';
import { COMMANDS } from './command-tree.js';
import type { OptionSpec, OptionSpecs } from './option-spec.js';
import { GLOBAL_OPTIONS } from './settings.js';

export const ROOT_USAGE = 'sibyl <command> [options]';

/**
 * The server apps `sibyl <app>` starts (bin/sibyl.js dispatches them to their built entry points, before
 * the CLI is loaded), in the order the help lists them.
 */
export const SERVER_APPS: readonly (readonly [name: string, summary: string])[] = [
  ['all-in-one', 'Every part in one process (what npm start runs)'],
  ['gateway', 'The public v2 REST and gRPC API, forwarding each request on its route'],
  ['router', 'Resolves routes for gateways from the registry and the live workers'],
  ['worker-onnx', 'Hosts ONNX models on demand, registered in its pool'],
  ['worker-tf', 'Hosts TensorFlow.js models on demand (no runtime in this build yet)'],
  ['management', 'The management API and the model file server for workers'],
];

export const APP_USAGE = `sibyl ${SERVER_APPS.map(([name]) => name).join('|')} [flags]`;

const EXIT_STATUSES = '0 success, 1 server error or server unreachable, 2 usage error, 3 not found (404), 4 conflict (409)';

function optionSynopsis(name: string, spec: OptionSpec): string {
  const value = spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : '';
  return `[--${name}${value}${spec.multiple === true ? ' ...' : ''}]`;
}

export function commandUsage(path: readonly string[], command: Command): string {
  const options = command.synopsis ?? Object.entries(command.options).map(([name, spec]) => optionSynopsis(name, spec)).join(' ');
  return ['sibyl', ...path, ...command.args, options].filter((part) => part !== '').join(' ');
}

export function groupUsage(group: CommandGroup): string {
  return `sibyl ${group.name} <${group.commands.map((c) => c.name).join('|')}> ...`;
}

function optionLines(options: OptionSpecs): string[] {
  const entries = Object.entries(options).map(([name, spec]) => {
    const short = spec.short === undefined ? '    ' : `-${spec.short}, `;
    const value = spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : '';
    return [`${short}--${name}${value}`, spec.help] as const;
  });
  const width = Math.max(...entries.map(([flag]) => flag.length));
  return entries.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`);
}

function commandRows(nodes: readonly CommandNode[], prefix: readonly string[]): (readonly [string, string])[] {
  return nodes.flatMap((node) =>
    node.kind === 'group'
      ? commandRows(node.commands, [...prefix, node.name])
      : [[[...prefix, node.name, ...node.args].join(' '), node.summary] as const],
  );
}

function commandList(nodes: readonly CommandNode[], prefix: readonly string[]): string[] {
  const rows = commandRows(nodes, prefix);
  const width = Math.max(...rows.map(([usage]) => usage.length));
  return rows.map(([usage, summary]) => `  ${usage.padEnd(width)}  ${summary}`);
}

function appList(): string[] {
  const width = Math.max(...SERVER_APPS.map(([name]) => name.length));
  return SERVER_APPS.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`);
}

export function rootHelp(): string {
  return [
    'sibyl: manage and call models on a Sibyl server',
    '',
    `Usage: ${ROOT_USAGE}`,
    `       ${APP_USAGE}`,
    '',
    'Commands:',
    ...commandList(COMMANDS, []),
    '',
    'Options (every command takes them):',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    `Exit status: ${EXIT_STATUSES}.`,
    "Run 'sibyl <command> --help' for a command's arguments and options.",
    '',
    "Server apps (built code: run 'npm run build' first):",
    ...appList(),
    '',
    "Run 'sibyl <app> --help' for an app's flags and their SIBYL_* variables.",
    '',
  ].join('\n');
}

export function groupHelp(group: CommandGroup): string {
  return [
    `sibyl ${group.name}: ${group.summary}`,
    '',
    `Usage: ${groupUsage(group)}`,
    '',
    'Commands:',
    ...commandList(group.commands, [group.name]),
    '',
    `Run 'sibyl ${group.name} <command> --help' for a command's options; 'sibyl --help' for the options every command takes.`,
    '',
  ].join('\n');
}

export function commandHelp(path: readonly string[], command: Command): string {
  const own = Object.keys(command.options).length > 0;
  return [
    `sibyl ${path.join(' ')}: ${command.summary}`,
    '',
    `Usage: ${commandUsage(path, command)}`,
    ...(command.description === undefined ? [] : ['', command.description]),
    ...(own ? ['', 'Options:', ...optionLines(command.options)] : []),
    '',
    'Options every command takes:',
    ...optionLines(Object.fromEntries(Object.entries(GLOBAL_OPTIONS).filter(([name]) => !(name in command.options)))),
    ...(command.examples === undefined ? [] : ['', 'Examples:', ...command.examples.map((e) => `  ${e}`)]),
    '',
    `Exit status: ${EXIT_STATUSES}.`,
    '',
  ].join('\n');
}
