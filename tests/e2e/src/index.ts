/** The e2e harness: start the server as a process, talk to it over REST and gRPC. */
export * from './harness/binary.js';
export * from './harness/fixtures.js';
export * from './harness/grpc-client.js';
export * from './harness/grpc-tensors.js';
export * from './harness/http.js';
export * from './harness/json.js';
export * from './harness/lifecycle.js';
export * from './harness/server.js';
export * from './harness/expect-error.js';
