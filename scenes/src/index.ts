/**
 * @edgefleet/scenes: procedural street scenes (person, bicycle, car) with exact labels, domain
 * shifts, a YOLO dataset generator, live frame streams and a small PNG codec.
 */

export { SCENES_ERRORS, ScenesError, type ScenesErrorCode } from './errors.js';
export { Rng, hashSeed } from './prng.js';
export {
  DAY,
  DOMAIN_NAMES,
  DOMAIN_PRESETS,
  formatDomain,
  interpolateParams,
  parseDomain,
  resolveDomain,
  type DomainMix,
  type DomainName,
  type DomainParams,
  type DomainSpec,
} from './domain/domain-spec.js';
export {
  parseSchedule,
  ScheduleClock,
  type DomainSchedule,
  type DomainState,
  type ScheduleSegment,
} from './domain/domain-schedule.js';
export * from './objects/object-spec.js';
export {
  renderScene,
  sensorSigma,
  type GroundTruthBox,
  type ObjectTruth,
  type PixelBox,
  type RenderedScene,
  type RenderOptions,
} from './render/render-scene.js';
export { DEFAULT_LABEL_RULE, isLabelled, type LabelRule } from './render/label-rule.js';
export { cameraHomography, Homography } from './render/homography.js';
export { GroundPlane, sampleScene, type SceneSamplerOptions } from './sampling/sample-scene.js';
export { sampleBicycle, sampleCar, sampleDistractor, samplePerson } from './sampling/sample-objects.js';
export { encodePng } from './png/png-encode.js';
export { decodePng, isPng, type DecodedImage } from './png/png-decode.js';
export {
  generateDataset,
  splitCounts,
  SPLITS,
  type DatasetSummary,
  type GenerateOptions,
  type SplitName,
} from './dataset/generate-dataset.js';
export { formatDataYaml, yoloLine } from './dataset/yolo-format.js';
export { createSceneStream, SceneStream, type SceneFrame, type SceneStreamOptions } from './stream/scene-stream.js';
export { luma } from './raster/color.js';
