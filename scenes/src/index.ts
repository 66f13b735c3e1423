/**
 * @edgefleet/scenes: procedural street scenes (person, bicycle, car) with exact labels, domain
 * shifts, a YOLO dataset generator, live frame streams and a small PNG codec.
 */

export { ScenesError } from './errors.js';

export { parseSchedule, ScheduleClock } from './domain/domain-schedule.js';

export type { GroundTruthBox } from './render/render-scene.js';

export { decodePng, isPng, type DecodedImage } from './png/png-decode.js';
export { generateDataset } from './dataset/generate-dataset.js';

export { createSceneStream, SceneStream } from './stream/scene-stream.js';
