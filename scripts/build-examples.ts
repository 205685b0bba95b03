/**
 * Builds the example model repository (examples/models) from the data in examples/data.
 *
 *   npx tsx scripts/build-examples.ts [output directory]    (npm run examples:build)
 *
 * The output directory defaults to examples/models. The build is deterministic: the committed files
 * are exactly what it writes, and scripts/build-examples.test.ts checks that they still are.
 */
import { rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeModelRepository } from '../packages/testkit/src/index.js';
import { buildDatatypes } from './build-examples/datatypes.js';
import { DATA_DIR, type ExampleModel } from './build-examples/example-model.js';
import { buildIdentity } from './build-examples/identity.js';
import { buildIrisFrom } from './build-examples/iris.js';
import { README_FILE, renderReadme } from './build-examples/readme.js';
import { buildTextFrom } from './build-examples/text.js';

export const DEFAULT_OUTPUT_DIR = fileURLToPath(new URL('../examples/models', import.meta.url));

export interface BuildResult {
  /** Every file written, relative to the output directory, sorted, with its size. */
  files: Array<{ path: string; bytes: number }>;
  /** What the build has to say, e.g. accuracy, one line each. */
  report: string[];
}

/** The example models, in the order the README lists them. */
export async function exampleModels(dataDir: string = DATA_DIR): Promise<ExampleModel[]> {
  return [await buildIrisFrom(dataDir), buildDatatypes(), await buildTextFrom(dataDir), buildIdentity()];
}

/**
 * Writes the example repository into `outDir`. Each model's directory is replaced whole, so a
 * version or file dropped from the build does not linger; other entries of `outDir` are left alone.
 */
export async function buildExamples(outDir: string = DEFAULT_OUTPUT_DIR): Promise<BuildResult> {
  const models = await exampleModels();
  for (const m of models) await rm(join(outDir, m.repository.name), { recursive: true, force: true });
  const paths = await writeModelRepository(
    outDir,
    models.map((m) => m.repository),
  );
  const files = await Promise.all(paths.map(async (path) => ({ path, bytes: (await stat(join(outDir, path))).size })));
  await writeFile(join(outDir, README_FILE), renderReadme(models, files));
  files.push({ path: README_FILE, bytes: (await stat(join(outDir, README_FILE))).size });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, report: models.flatMap((m) => m.report) };
}

async function main(argv: string[]): Promise<void> {
  if (argv.length > 1 || argv[0]?.startsWith('-')) {
    throw new Error('usage: tsx scripts/build-examples.ts [output directory (default examples/models)]');
  }
  const outDir = argv[0] === undefined ? DEFAULT_OUTPUT_DIR : resolve(argv[0]);
  const { files, report } = await buildExamples(outDir);
  for (const line of report) console.log(line);
  console.log(`wrote ${files.length} files to ${outDir}:`);
  for (const f of files) console.log(`  ${f.path.padEnd(32)} ${String(f.bytes).padStart(6)} bytes`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
