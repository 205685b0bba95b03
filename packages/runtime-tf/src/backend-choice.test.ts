import { describe, expect, it } from 'vitest';
import { chooseBackend, detectBackend, type BackendProbe } from './backend-choice.js';

const probe = (installed: string[], gpu: boolean): BackendProbe => ({ installed: (pkg) => installed.includes(pkg), gpuPresent: () => gpu });

describe('chooseBackend', () => {
  it('takes the native GPU binding only when it is installed and a GPU is present', () => {
    expect(chooseBackend(probe(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm'], true))).toBe('tensorflow-gpu');
    expect(chooseBackend(probe(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-wasm'], false))).toBe('wasm');
    expect(chooseBackend(probe(['@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm'], true))).toBe('tensorflow');
  });

  it('prefers the native binding, then WASM, then CPU', () => {
    expect(chooseBackend(probe(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'], false))).toBe('tensorflow');
    expect(chooseBackend(probe(['@tensorflow/tfjs-backend-wasm'], false))).toBe('wasm');
    expect(chooseBackend(probe([], true))).toBe('cpu');
  });

  it('is WASM on this machine, where the native packages are not installed', () => {
    expect(detectBackend()).toBe('wasm');
  });
});
