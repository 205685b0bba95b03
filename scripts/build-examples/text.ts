/**
 * `text`: BYTES in, BYTES and INT64 out. StringNormalizer lower-cases each string; an ai.onnx.ml
 * LabelEncoder maps the lower-cased string to its id in examples/data/vocab.txt.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildOnnxModel, type ModelSpec } from '../../packages/testkit/src/index.js';
import type { ExampleModel } from './example-model.js';

export const VOCAB_FILE = 'vocab.txt';
/** The id of a string that is not in the vocabulary. */
export const UNKNOWN_TOKEN_ID = -1;

/**
 * StringNormalizer's locale. Its default, en_US.UTF-8, is often not installed (it is not on Debian
 * or node images without the locales package), and then onnxruntime refuses the session;
 * C.UTF-8 is built into glibc and still lower-cases beyond ASCII (É → é).
 */
export const TEXT_LOCALE = 'C.UTF-8';

/** One token a line, in id order (line 1 is id 0); blank lines and duplicates are errors. */
export function parseVocabulary(text: string): string[] {
  const tokens = text.split('\n');
  if (tokens.at(-1) === '') tokens.pop();
  tokens.forEach((t, i) => {
    if (t.trim() === '' || t !== t.trim()) throw new Error(`${VOCAB_FILE} line ${i + 1}: a token must be non-empty without surrounding spaces`);
    if (tokens.indexOf(t) !== i) throw new Error(`${VOCAB_FILE} line ${i + 1}: "${t}" is already line ${tokens.indexOf(t) + 1}`);
  });
  return tokens;
}

export function textModelSpec(vocabulary: readonly string[]): ModelSpec {
  return {
    name: 'text',
    docString: `Lower-cases each string (StringNormalizer, locale ${TEXT_LOCALE}) and maps it to its id in examples/data/${VOCAB_FILE} (${UNKNOWN_TOKEN_ID} if absent).`,
    // A 1-D input of at least one element: onnxruntime's StringNormalizer refuses an empty one.
    inputs: [{ name: 'text', datatype: 'BYTES', shape: ['n'] }],
    outputs: [
      { name: 'lower', datatype: 'BYTES', shape: ['n'] },
      { name: 'token_id', datatype: 'INT64', shape: ['n'] },
    ],
    nodes: [
      {
        op: 'StringNormalizer',
        inputs: ['text'],
        outputs: ['lower'],
        attributes: { case_change_action: 'LOWER', locale: TEXT_LOCALE },
      },
      {
        op: 'LabelEncoder',
        domain: 'ai.onnx.ml',
        inputs: ['lower'],
        outputs: ['token_id'],
        attributes: {
          keys_strings: [...vocabulary],
          values_int64s: vocabulary.map((_, i) => i),
          default_int64: UNKNOWN_TOKEN_ID,
        },
      },
    ],
    extraOpsets: { 'ai.onnx.ml': 3 },
  };
}

export function buildText(vocabText: string): ExampleModel {
  const vocabulary = parseVocabulary(vocabText);
  const spec = textModelSpec(vocabulary);
  const readme = `\`text\` is a 1-D BYTES tensor of at least one string (onnxruntime's \`StringNormalizer\` refuses
an empty one). \`lower\` is each string lower-cased (\`StringNormalizer\`, locale \`${TEXT_LOCALE}\`, so
\`ÉCOLE\` becomes \`école\`), and \`token_id\` its line number from 0 in \`examples/data/${VOCAB_FILE}\`
(${vocabulary.length} tokens) through an \`ai.onnx.ml\` \`LabelEncoder\`, or ${UNKNOWN_TOKEN_ID} for a string not in it.`;
  return {
    // `n` is the number of strings, not a batch: without a config, auto-complete would read it as one
    // and refuse more than 4 strings.
    repository: { name: 'text', versions: { '1': buildOnnxModel(spec) }, config: { name: 'text', max_batch_size: 0 } },
    inputs: spec.inputs,
    outputs: spec.outputs,
    shows: 'BYTES (string) tensors in and out; an `ai.onnx.ml` operator',
    readme,
    report: [`text: ${vocabulary.length} tokens in the vocabulary`],
  };
}

/** Reads the vocabulary from `dataDir` and builds the model. */
export async function buildTextFrom(dataDir: string): Promise<ExampleModel> {
  return buildText(await readFile(join(dataDir, VOCAB_FILE), 'utf8'));
}
