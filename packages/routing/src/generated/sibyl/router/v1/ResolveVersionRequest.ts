// Original file: sibyl/router/v1/router.proto


export interface ResolveVersionRequest {
  'model'?: (string);
  'version'?: (number);
}

export interface ResolveVersionRequest__Output {
  'model'?: (string);
  'version'?: (number);
}
