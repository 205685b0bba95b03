export * from './onnx-builder.js';
