/**
 * @edgefleet/scenes: procedural street scenes (person, bicycle, car) with exact labels, domain
 * shifts, a YOLO dataset generator, live frame streams and a small PNG codec. Exports what other
 * packages use and what scenes/README.md documents as its API.
 */
export { SCENES_ERRORS, ScenesError } from './errors.js';
export { CLASS_NAMES, type ClassName } from './objects/object-spec.js';
export { resolveDomain } from './domain/domain-spec.js';
export { parseSchedule, ScheduleClock } from './domain/domain-schedule.js';
export { renderScene, type GroundTruthBox } from './render/render-scene.js';
export { DEFAULT_LABEL_RULE } from './render/label-rule.js';
export { sampleScene } from './sampling/sample-scene.js';
export { encodePng } from './png/png-encode.js';
export { decodePng, isPng, type DecodedImage } from './png/png-decode.js';
export { generateDataset } from './dataset/generate-dataset.js';
export { createSceneStream, SceneStream } from './stream/scene-stream.js';
