// Original file: inference/grpc_service.proto


export interface ModelReadyResponse {
  'ready'?: (boolean);
}

export interface ModelReadyResponse__Output {
  'ready'?: (boolean);
}
