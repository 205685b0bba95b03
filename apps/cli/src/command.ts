/** The command tree's node types and what a command receives when it runs. */
import type { ApiClient, ApiResponse } from './api-client.js';
import type { CliIo } from './io.js';
import type { OptionSpecs, OptionValues } from './option-spec.js';
import type { Settings } from './settings.js';

export interface CommandContext {
  /** Positional arguments by their name in `Command.args` (`MODEL`, `FILE`). */
  readonly args: Readonly<Record<string, string>>;
  readonly options: OptionValues;
  readonly settings: Settings;
  readonly io: CliIo;
  readonly management: ApiClient;
  readonly inference: ApiClient;
  /** The command's usage line, for usage errors found while running. */
  readonly usage: string;
}

export interface Command {
  readonly kind: 'command';
  readonly name: string;
  /** One line, shown in the command list. */
  readonly summary: string;
  /** Paragraphs shown by the command's --help. */
  readonly description?: string;
  /** Required positional arguments, in order, upper case. */
  readonly args: readonly string[];
  readonly options: OptionSpecs;
  /** Replaces the generated option part of the usage line, for options that exclude each other. */
  readonly synopsis?: string;
  readonly examples?: readonly string[];
  run(ctx: CommandContext): Promise<void>;
}

export interface CommandGroup {
  readonly kind: 'group';
  readonly name: string;
  readonly summary: string;
  readonly commands: readonly Command[];
}

export type CommandNode = Command | CommandGroup;

/** Prints an answer: as received with `--output json`, else through `table`. */
export function emit(ctx: CommandContext, res: ApiResponse, table: () => string): void {
  if (ctx.settings.output === 'json') {
    if (res.text !== '') ctx.io.stdout.write(res.text.endsWith('\n') ? res.text : `${res.text}\n`);
    return;
  }
  ctx.io.stdout.write(table());
}
