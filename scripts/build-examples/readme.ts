/**
 * Renders examples/models/README.md from the models themselves, so the table of inputs, outputs,
 * accuracy and file sizes cannot drift from what is built.
 */
import type { ValueSpec } from '../../packages/testkit/src/index.js';
import { formatShape, type ExampleModel } from './example-model.js';

export const README_FILE = 'README.md';

/** `name` DATATYPE shape, one per line of a table cell. */
function tensors(specs: readonly ValueSpec[]): string {
  const shapes = new Set(specs.map((s) => formatShape(s.shape)));
  if (specs.length > 4 && shapes.size === 1) {
    // Many tensors of one shape (the datatypes model): name and type only, the shape once.
    return `${specs.map((s) => `\`${s.name}\` ${s.datatype}`).join(', ')}; each ${[...shapes][0]}`;
  }
  return specs.map((s) => `\`${s.name}\` ${s.datatype} ${formatShape(s.shape)}`).join('<br>');
}

export function renderReadme(models: readonly ExampleModel[], files: ReadonlyArray<{ path: string; bytes: number }>): string {
  const table = models.map((m) => {
    const versions = Object.keys(m.repository.versions).join(', ');
    return `| [\`${m.repository.name}\`](#${m.repository.name}) | ${versions} | ${tensors(m.inputs)} | ${tensors(m.outputs)} | ${m.shows} |`;
  });
  const curls = models.map(
    (m) =>
      `curl -s -X POST localhost:8000/v2/models/${m.repository.name}/infer -H 'content-type: application/json' -d @examples/requests/${m.repository.name}.json`,
  );
  const sections = models.map((m) => `## ${m.repository.name}\n\n${m.readme}\n`);
  const fileRows = files.map((f) => `| \`${f.path}\` | ${f.bytes} |`);
  return `# Example models

A model repository in Triton's layout (\`<model>/<version>/model.onnx\` or \`model.json\`, an optional
\`<model>/config.json\` with Triton's model-configuration field names), served by
\`--model-repository examples/models\`. Shapes are as the ONNX graphs declare them; a string
dimension is dynamic (served as -1). Only \`iris\` has a \`config.json\`: the other models' metadata
comes from the model file, as with Triton's auto-complete.

This folder is generated: edit \`scripts/build-examples/\` or \`examples/data/\`, never these files.

| model | versions | inputs | outputs | shows |
| --- | --- | --- | --- | --- |
${table.join('\n')}

Ready-to-send request bodies are in \`examples/requests/\`, one per model (from the repository root):

\`\`\`sh
${curls.join('\n')}
\`\`\`

${sections.join('\n')}
## iris_tf

A TensorFlow.js layers model (\`iris_tf/1/model.json\` with its \`weights.bin\`): the same iris
classifier as \`iris\`, a dense network trained with TensorFlow.js by
\`scripts/build-tf-examples.ts\` (\`npm run examples:build-tf\`, which prints its held-out accuracy).
Input \`measurements\` FP32 [-1,4], output \`probabilities\` FP32 [-1,3]. It is served by the
TensorFlow.js engine (worker-tf in the split topology, the same process in the all-in-one), through
the same model cache, batcher and protocol as the ONNX models:

\`\`\`sh
curl -s -X POST localhost:8000/v2/models/iris_tf/infer -H 'content-type: application/json' \\
  -d '{"inputs":[{"name":"measurements","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}]}'
\`\`\`

## Rebuilding

\`\`\`sh
npm run examples:build                          # into examples/models
npx tsx scripts/build-examples.ts /tmp/models   # into another directory
\`\`\`

The build reads only \`examples/data/\` and is deterministic: no randomness, training uses only
basic floating-point arithmetic (no \`Math.exp\`, whose precision engines may differ on), and the
ONNX encoding is fixed, so every machine writes the same bytes. \`scripts/build-examples.test.ts\`
rebuilds into a temporary directory, checks that every file equals the committed one, and runs each
model in onnxruntime-node.

| file | bytes |
| --- | --- |
${fileRows.join('\n')}
`;
}
