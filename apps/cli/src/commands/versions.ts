/** `sibyl versions upload|list|show|retire`. */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { route } from '../api-client.js';
import { CliError, inputError, usageError } from '../cli-error.js';
import { emit, type CommandContext, type CommandGroup } from '../command.js';
import { parseVersion } from '../key-value.js';
import { stringOption } from '../option-spec.js';
import { createProgress } from '../progress-bar.js';
import { bytesCell } from '../table.js';
import { packDirectory } from '../tar-directory.js';
import { hashFile, uploadVersion } from '../upload.js';
import { versionsView, versionView } from '../views.js';
import type { Model, Version } from '../wire-types.js';

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

async function statInput(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw inputError(code === 'ENOENT' ? `${path}: no such file or directory` : `cannot read ${path}: ${(err as Error).message}`, err);
  }
}

async function upload(ctx: CommandContext): Promise<void> {
  const model = ctx.args['MODEL']!;
  const given = resolve(ctx.io.cwd, ctx.args['FILE']!);
  const shaOption = stringOption(ctx.options, 'sha256') ?? 'auto';
  if (shaOption !== 'auto' && !SHA256_HEX.test(shaOption)) {
    throw usageError(`--sha256: expected 'auto' or 64 hexadecimal digits, got '${shaOption}'`, ctx.usage);
  }
  const { stderr } = ctx.io;
  let info = await statInput(given);
  // A mistyped model name fails now, not after hashing and sending a large file.
  await ctx.management.request('GET', route`/v1/models/${model}`);
  let path = given;
  let filename = basename(given);
  let scratch: string | undefined;
  try {
    if (info.isDirectory()) {
      if (shaOption !== 'auto') throw usageError('--sha256 HEX applies to a file; a directory is packed here, so use --sha256 auto', ctx.usage);
      scratch = await mkdtemp(join(tmpdir(), 'sibyl-upload-'));
      filename = `${basename(given)}.tar.gz`;
      path = join(scratch, filename);
      const packed = await packDirectory(given, path);
      info = await stat(path);
      stderr.write(`Packed ${packed.files} file${packed.files === 1 ? '' : 's'} (${bytesCell(packed.bytes)}) from ${given} into ${filename} (${bytesCell(info.size)})\n`);
    } else if (!info.isFile()) {
      throw inputError(`${given}: not a regular file or directory`);
    }
    const sha256 = shaOption === 'auto' ? await hashFile(path, createProgress(stderr, `sha256 ${filename}`, info.size)) : shaOption.toLowerCase();
    const started = performance.now();
    const res = await uploadVersion({
      client: ctx.management,
      model,
      path,
      filename,
      size: info.size,
      sha256,
      progress: createProgress(stderr, `upload ${filename}`, info.size),
    });
    const seconds = (performance.now() - started) / 1000;
    const version = res.body as Version;
    if (typeof version?.sha256 === 'string' && version.sha256.toLowerCase() !== sha256) {
      throw new CliError('SERVER', `the server recorded sha256 ${version.sha256} for ${filename}, but the file's is ${sha256}`);
    }
    stderr.write(
      `Uploaded ${filename} (${bytesCell(info.size)}, sha256 ${sha256.slice(0, 12)}…) to ${model} as version ${version?.version ?? '?'} in ${seconds.toFixed(1)} s\n`,
    );
    emit(ctx, res, () => versionView(version));
  } finally {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  }
}

export const versionsGroup: CommandGroup = {
  kind: 'group',
  name: 'versions',
  summary: 'Upload, list, inspect and retire model versions',
  commands: [
    {
      kind: 'command',
      name: 'upload',
      summary: 'Upload a model file (or a directory, packed as .tar.gz) as a new version',
      description:
        'The file is streamed with a progress bar (on a terminal) and its sha256, which the server checks. ' +
        'The server validates the model by loading it before accepting it; the new version is not live until `sibyl deploy`.',
      args: ['MODEL', 'FILE'],
      options: {
        sha256: { type: 'string', valueName: 'auto|HEX', help: "Checksum the server verifies: computed from the file ('auto', the default) or given" },
      },
      examples: ['sibyl versions upload iris ./model.onnx', 'sibyl versions upload mnist-tfjs ./tfjs-model/   # a directory: packed as tfjs-model.tar.gz'],
      run: upload,
    },
    {
      kind: 'command',
      name: 'list',
      summary: 'List the versions of a model and their states',
      args: ['MODEL'],
      options: {},
      async run(ctx) {
        const model = ctx.args['MODEL']!;
        if (ctx.settings.output === 'json') {
          emit(ctx, await ctx.management.request('GET', route`/v1/models/${model}/versions`), () => '');
          return;
        }
        // Tables mark which version is live, which needs the model too.
        const [versions, modelRes] = await Promise.all([
          ctx.management.request('GET', route`/v1/models/${model}/versions`),
          ctx.management.request('GET', route`/v1/models/${model}`),
        ]);
        emit(ctx, versions, () => versionsView((versions.body as { versions?: Version[] }).versions ?? [], modelRes.body as Model));
      },
    },
    {
      kind: 'command',
      name: 'show',
      summary: 'Show one version: state, checksum and input/output signature',
      args: ['MODEL', 'VERSION'],
      options: {},
      async run(ctx) {
        const version = parseVersion('VERSION', ctx.args['VERSION']!, ctx.usage);
        const res = await ctx.management.request('GET', route`/v1/models/${ctx.args['MODEL']!}/versions/${version}`);
        emit(ctx, res, () => versionView(res.body as Version));
      },
    },
    {
      kind: 'command',
      name: 'retire',
      summary: 'Retire a version so it can no longer be deployed (refused while live)',
      args: ['MODEL', 'VERSION'],
      options: {},
      async run(ctx) {
        const model = ctx.args['MODEL']!;
        const version = parseVersion('VERSION', ctx.args['VERSION']!, ctx.usage);
        const res = await ctx.management.request('DELETE', route`/v1/models/${model}/versions/${version}`);
        emit(ctx, res, () => `Retired ${model} version ${version}.\n`);
      },
    },
  ],
};
