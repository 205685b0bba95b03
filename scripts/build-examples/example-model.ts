/**
 * What each example-model module hands to the build: the repository entry to write, plus what the
 * build prints and what the generated README says about it.
 */
import { fileURLToPath } from 'node:url';
// By path rather than as `@sibyl/testkit`: the script runs from sources with tsx, before any build
// (the package's exports point at dist/). This is still the package's public surface, src/index.ts.
import type { RepositoryModel, ValueSpec } from '../../packages/testkit/src/index.js';

export interface ExampleModel {
  /** Name, versions, config and extra files, as written to the model repository. */
  repository: RepositoryModel;
  /** Inputs and outputs as the ONNX graph declares them (the same in every version). */
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  /** One markdown phrase for the README table: what the model demonstrates. */
  shows: string;
  /** The model's README section (markdown, without its heading). */
  readme: string;
  /** Lines the build prints, e.g. accuracy. */
  report: string[];
}

/** The folder of source data the build reads (`examples/data`). */
export const DATA_DIR = fileURLToPath(new URL('../../examples/data/', import.meta.url));

/** Renders a shape as the README shows it: `["batch", 4]`. */
export function formatShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.map((d) => (typeof d === 'string' ? `"${d}"` : String(d))).join(', ')}]`;
}
