export * from './onnx-builder.js';
export * from './model-repository.js';
