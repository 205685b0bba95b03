/**
 * Which TensorFlow.js backend a runtime starts on, chosen once at start: the native GPU binding when
 * it is installed and a GPU is present, else the native CPU binding when installed, else WASM, else
 * tfjs's pure-JS CPU backend. The native packages download libtensorflow when installed, so they are
 * never dependencies: they are used only when an operator installed them.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { TfBackendName } from './tf-wire.js';

export interface BackendProbe {
  /** Whether a package resolves from here. */
  installed(pkg: string): boolean;
  /** Whether an NVIDIA GPU is visible to this process. */
  gpuPresent(): boolean;
}

export function chooseBackend(probe: BackendProbe): TfBackendName {
  if (probe.installed('@tensorflow/tfjs-node-gpu') && probe.gpuPresent()) return 'tensorflow-gpu';
  if (probe.installed('@tensorflow/tfjs-node')) return 'tensorflow';
  if (probe.installed('@tensorflow/tfjs-backend-wasm')) return 'wasm';
  return 'cpu';
}

const require = createRequire(import.meta.url);

/** This process: packages as Node resolves them from this package, the GPU by its driver's device files. */
export const systemProbe: BackendProbe = {
  installed(pkg) {
    try {
      require.resolve(`${pkg}/package.json`);
      return true;
    } catch {
      return false;
    }
  },
  gpuPresent: () => existsSync('/dev/nvidia0') || existsSync('/proc/driver/nvidia/version'),
};

/** The backend for this process (chooseBackend over systemProbe). */
export function detectBackend(): TfBackendName {
  return chooseBackend(systemProbe);
}
