/** `sibyl infer MODEL`: one inference request through the Open Inference Protocol (REST). */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { route } from '../api-client.js';
import { inputError, usageError } from '../cli-error.js';
import { emit, type Command, type CommandContext } from '../command.js';
import { buildInferRequest, parseInputFlags } from '../infer-request.js';
import { parseVersion } from '../key-value.js';
import { listOption, stringOption } from '../option-spec.js';
import { inferView } from '../views.js';
import type { InferResponse, ModelMetadata } from '../wire-types.js';

async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** The request body as given, checked to be a JSON object; `-` reads standard input. */
async function readJsonBody(ctx: CommandContext, file: string): Promise<string> {
  let text: string;
  try {
    text = file === '-' ? await readAll(ctx.io.stdin) : await readFile(resolve(ctx.io.cwd, file), 'utf8');
  } catch (err) {
    throw inputError(`cannot read ${file}: ${(err as Error).message}`, err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw inputError(`${file}: not JSON (${(err as Error).message})`, err);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw inputError(`${file}: expected a request object like {"inputs": [...]}`);
  }
  return text;
}

export const inferCommand: Command = {
  kind: 'command',
  name: 'infer',
  summary: 'Send one inference request and print the outputs',
  description:
    'The request is a JSON file in the Open Inference Protocol format (--json), or built from --input flags: ' +
    'datatypes and shapes come from the model metadata; a variable (-1) dimension is sized to the values given, ' +
    'or set with --shape. BYTES values are taken as text.',
  args: ['MODEL'],
  options: {
    version: { type: 'string', valueName: 'V', help: 'Model version (default: the live version)' },
    json: { type: 'string', valueName: 'FILE', help: "Request body, e.g. examples/requests/iris.json ('-' reads standard input)" },
    input: { type: 'string', multiple: true, valueName: 'NAME=V1,V2,...', help: 'An input tensor as a flat list; repeat for each input' },
    shape: { type: 'string', multiple: true, valueName: 'NAME=D1,D2,...', help: "An input's shape, when the metadata cannot decide it; repeat for each input" },
  },
  synopsis: '[--version V] (--json FILE | --input NAME=V1,V2,... [--input ...] [--shape NAME=D1,D2,...])',
  examples: [
    'sibyl infer iris --input input=5.1,3.5,1.4,0.2',
    'sibyl infer iris --version 1 --input input=5.1,3.5,1.4,0.2,6.7,3.0,5.2,2.3 --shape input=2,4',
    'sibyl infer iris --json examples/requests/iris.json --output json',
  ],
  async run(ctx) {
    const model = ctx.args['MODEL']!;
    const versionText = stringOption(ctx.options, 'version');
    const version = versionText === undefined ? undefined : parseVersion('--version', versionText, ctx.usage);
    const jsonFile = stringOption(ctx.options, 'json');
    const inputs = listOption(ctx.options, 'input');
    const shapes = listOption(ctx.options, 'shape');
    if (jsonFile !== undefined && inputs.length > 0) throw usageError('give either --json or --input, not both', ctx.usage);
    if (jsonFile === undefined && inputs.length === 0) throw usageError('missing the request: give --json FILE or --input NAME=V1,V2,...', ctx.usage);
    if (jsonFile !== undefined && shapes.length > 0) throw usageError('--shape goes with --input; a --json request carries its own shapes', ctx.usage);

    const flags = parseInputFlags(inputs, shapes, ctx.usage);
    const base = version === undefined ? route`/v2/models/${model}` : route`/v2/models/${model}/versions/${version}`;
    let jsonText: string;
    if (jsonFile !== undefined) {
      // Sent as written: the file may use anything the protocol allows (parameters, exact INT64s).
      jsonText = await readJsonBody(ctx, jsonFile);
    } else {
      const metadata = await ctx.inference.request('GET', base);
      jsonText = JSON.stringify(buildInferRequest(flags, metadata.body as ModelMetadata));
    }
    const res = await ctx.inference.request('POST', `${base}/infer`, { jsonText });
    emit(ctx, res, () => inferView(res.body as InferResponse));
  },
};
