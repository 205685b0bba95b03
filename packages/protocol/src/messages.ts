import type { Datatype } from './datatypes.js';
import type { Parameters, Tensor } from './tensor.js';

export interface RequestedOutput {
  name: string;
  parameters?: Parameters;
}

/** One inference request, decoded from any transport. */
export interface InferRequest {
  modelName: string;
  /** Empty or undefined: the server's version policy picks (the highest available). */
  modelVersion?: string;
  id?: string;
  parameters?: Parameters;
  inputs: Tensor[];
  /** Undefined or empty: every model output, with default settings. */
  outputs?: RequestedOutput[];
}

export interface InferResponse {
  modelName: string;
  modelVersion: string;
  id?: string;
  parameters?: Parameters;
  outputs: Tensor[];
}

export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  /** -1 marks a variable-size dimension. */
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

/** One row of the model repository index (Triton's repository extension). */
export interface ModelIndexEntry {
  name: string;
  version?: string;
  /** READY, UNAVAILABLE, LOADING, UNLOADING (Triton's state strings). */
  state: 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';
  reason: string;
}
