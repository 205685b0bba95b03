// Original file: sibyl/router/v1/router.proto


export interface ResolveModelRequest {
  'model'?: (string);
}

export interface ResolveModelRequest__Output {
  'model'?: (string);
}
