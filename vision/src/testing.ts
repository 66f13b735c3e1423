/**
 * Internals of @edgefleet/vision that cross-package tests (test/) and benchmarks (bench/) drive directly.
 * Not part of the package's public surface (src/index.ts); production code does not import this entry.
 */
export { writeLetterboxTensor } from './letterbox.js';
export { createOnnxSession } from './onnx-session.js';
export { MAX_AUTO_REPLICAS } from './replicated-runner.js';
export { readOnnxMetadataFile } from './onnx-metadata.js';
export { parseClassNames } from './ultralytics-metadata.js';
