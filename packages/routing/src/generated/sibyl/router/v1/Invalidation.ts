// Original file: sibyl/router/v1/router.proto


export interface Invalidation {
  'model'?: (string);
  '_model'?: "model";
}

export interface Invalidation__Output {
  'model'?: (string);
  '_model'?: "model";
}
