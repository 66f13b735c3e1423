/**
 * Public API of the control plane package.
 */

export { CP_ERRORS, CpError, describeError, isCpError, type CpErrorCode } from './errors.js';
export {
  averagePrecision,
  boxIou,
  cocoMap,
  IOU_THRESHOLDS,
  matchDetections,
  RECALL_THRESHOLDS,
  type ClassMetrics,
  type CocoMapOptions,
  type CocoMapResult,
  type EvalBox,
  type EvalGroundTruth,
  type EvalImage,
  type EvalPrediction,
} from './evaluation/coco-map.js';
export { parseDataYaml, type YamlValue } from './evaluation/data-yaml.js';
export {
  IMAGE_EXTENSIONS,
  labelPathFor,
  loadSplit,
  parseLabelFile,
  readYoloDataset,
  type DatasetSplit,
  type LabelledImage,
  type YoloDataset,
  type YoloLabel,
} from './evaluation/yolo-dataset.js';
export { mapClasses, type ClassMapping } from './evaluation/class-mapping.js';
export { checkImageFormat, loadImage } from './evaluation/load-image.js';
export { evaluateModel, type ClassEvaluation, type EvaluateModelOptions, type EvaluationResult } from './evaluation/evaluate-model.js';
export { main } from './cli/main.js';
