export * from './datatypes.js';
export * from './tensor.js';
export * from './messages.js';
export * from './sibyl-error.js';
export * from './inference-service.js';
export * from './grpc-definitions.js';
