/**
 * Evaluates a detector on one split of a YOLO dataset: COCO mAP50 / mAP50-95, per-class AP,
 * precision and recall at a confidence threshold, and throughput.
 *
 * Detection runs at a low confidence (0.001) with NMS IoU 0.7 and up to 300 detections per
 * image, the settings Ultralytics' `val` uses; the metrics follow pycocotools (see coco-map.ts).
 * Images go to the detector at native size and the detector letterboxes them itself.
 */

import { performance } from 'node:perf_hooks';
import {
  OnnxDetector,
  isVisionError,
  type Detector,
  type ExecutionProviderName,
  type VisionLogger,
} from '@edgefleet/vision';
import { CpError } from '../errors.js';
import { mapClasses, type ClassMapping } from './class-mapping.js';
import { cocoMap, type EvalImage } from './coco-map.js';
import { checkImageFormat, loadImage } from './load-image.js';
import { loadSplit, readYoloDataset } from './yolo-dataset.js';

export interface EvaluateModelOptions {
  /** ONNX model path (ignored when `detector` is given, except as the reported name). */
  readonly model: string;
  /** Dataset folder (with data.yaml) or the YAML file. */
  readonly data: string;
  /** Default 'test'. */
  readonly split?: string;
  /** Detector confidence threshold, default 0.001 (standard for mAP). */
  readonly conf?: number;
  /** Detector NMS IoU threshold, default 0.7. */
  readonly iou?: number;
  /** Detections per image from the detector, default 300 (mAP then keeps 100 per image and class). */
  readonly maxDetections?: number;
  /** Confidence threshold for the reported precision/recall, default 0.25 (at IoU 0.5). */
  readonly prConf?: number;
  readonly providers?: readonly ExecutionProviderName[];
  /** Evaluate this already loaded detector instead of loading `model` (it is not closed). */
  readonly detector?: Detector;
  /** Progress lines (the CLI writes them to stderr). */
  readonly progress?: (line: string) => void;
  readonly logger?: VisionLogger;
  readonly signal?: AbortSignal;
}

export interface ClassEvaluation {
  /** null when the split has no ground truth of this class (left out of the means). */
  readonly ap50: number | null;
  readonly ap50_95: number | null;
  readonly gt: number;
  readonly precision: number;
  readonly recall: number;
}

export interface EvaluationResult {
  readonly mAP50: number;
  readonly mAP50_95: number;
  readonly perClass: Readonly<Record<string, ClassEvaluation>>;
  /** Pooled over classes at `prConf`, IoU 0.5. */
  readonly precision: number;
  readonly recall: number;
  readonly images: number;
  readonly instances: number;
  readonly model: string;
  readonly dataset: string;
  readonly split: string;
  /** End to end: image decoding, detection and matching. */
  readonly imagesPerSecond: number;
  /** Detector time only (pre-processing, inference, decoding and NMS). */
  readonly inferenceImagesPerSecond: number;
  readonly provider: string;
  readonly classMapping: { readonly by: 'name' | 'index'; readonly unmatchedDatasetClasses: readonly string[] };
  readonly backgroundImages: number;
  readonly settings: {
    readonly conf: number;
    readonly iou: number;
    readonly maxDetections: number;
    readonly prConf: number;
  };
}

async function loadDetector(o: EvaluateModelOptions): Promise<Detector> {
  try {
    return await OnnxDetector.load(o.model, {
      ...(o.providers ? { providers: o.providers } : {}),
      ...(o.logger ? { logger: o.logger } : {}),
    });
  } catch (err) {
    if (isVisionError(err)) throw new CpError('CP_ERR_MODEL_LOAD', `${o.model}: ${err.message}`, { cause: err });
    throw err;
  }
}

function checkUnit(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1)
    throw new CpError('CP_ERR_ARGS', `${name} must be within 0..1, got ${String(v)}`);
  return v;
}

export async function evaluateModel(options: EvaluateModelOptions): Promise<EvaluationResult> {
  const split = options.split ?? 'test';
  const conf = checkUnit('conf', options.conf ?? 0.001);
  const iou = checkUnit('iou', options.iou ?? 0.7);
  const prConf = checkUnit('prConf', options.prConf ?? 0.25);
  const maxDetections = options.maxDetections ?? 300;
  if (!Number.isInteger(maxDetections) || maxDetections < 1)
    throw new CpError('CP_ERR_ARGS', `maxDetections must be a positive integer, got ${maxDetections}`);
  const progress = options.progress ?? (() => {});

  // Everything that can be checked without the model is checked first.
  const dataset = readYoloDataset(options.data);
  const data = loadSplit(dataset, split);
  if (data.instances === 0)
    throw new CpError('CP_ERR_DATASET_SPLIT', `split ${split} has no labelled objects: mAP is undefined`);
  data.images.forEach((img) => {
    checkImageFormat(img.imagePath);
  });
  if (data.backgroundImages > 0)
    progress(`eval: ${data.backgroundImages} image(s) in ${split} have no label file and count as background`);

  const detector = options.detector ?? (await loadDetector(options));
  try {
    const mapping: ClassMapping = mapClasses(detector.info.classNames, dataset.names);
    if (mapping.by === 'index') progress('eval: model and dataset share no class names; mapping classes by index');
    if (mapping.unmatchedDatasetClasses.length > 0)
      progress(`eval: the model has no class for: ${mapping.unmatchedDatasetClasses.join(', ')}`);
    progress(
      `eval: ${data.images.length} images, ${data.instances} objects, model ${detector.info.adapter} ${detector.info.inputWidth}x${detector.info.inputHeight} on ${detector.info.provider}`,
    );

    const evalImages: EvalImage[] = [];
    let detectorMs = 0;
    const started = performance.now();
    let lastReport = started;
    for (const [i, img] of data.images.entries()) {
      if (options.signal?.aborted) throw new CpError('CP_ERR_EVALUATION', 'aborted', { cause: options.signal.reason });
      const decoded = loadImage(img.imagePath);
      const { width, height } = decoded;
      const result = await detector.detect(
        { data: decoded.data, width, height, format: 'RGB', sourceWidth: width, sourceHeight: height },
        { conf, iou, maxDetections },
      );
      detectorMs += result.timings.preMs + result.timings.inferMs + result.timings.postMs;
      const predictions = [];
      for (const d of result.detections) {
        const classId = mapping.modelToDataset.get(d.classId);
        if (classId !== undefined) predictions.push({ classId, score: d.score, box: d.box });
      }
      evalImages.push({
        groundTruth: img.labels.map((l) => ({
          classId: l.classId,
          box: [
            (l.cx - l.w / 2) * width,
            (l.cy - l.h / 2) * height,
            (l.cx + l.w / 2) * width,
            (l.cy + l.h / 2) * height,
          ] as const,
        })),
        predictions,
      });
      const now = performance.now();
      if (now - lastReport > 2000 || i + 1 === data.images.length) {
        lastReport = now;
        progress(
          `eval: ${i + 1}/${data.images.length} images (${((i + 1) / ((now - started) / 1000)).toFixed(1)} img/s)`,
        );
      }
    }
    const metrics = cocoMap(evalImages, {
      classIds: dataset.names.map((_, i) => i),
      confThreshold: prConf,
      prIouThreshold: 0.5,
    });
    const elapsedS = (performance.now() - started) / 1000;
    const perClass: Record<string, ClassEvaluation> = {};
    for (const c of metrics.perClass) {
      perClass[dataset.names[c.classId] as string] = {
        ap50: c.ap50,
        ap50_95: c.ap50_95,
        gt: c.gt,
        precision: c.precision,
        recall: c.recall,
      };
    }
    return {
      mAP50: metrics.mAP50 ?? 0,
      mAP50_95: metrics.mAP50_95 ?? 0,
      perClass,
      precision: metrics.precision,
      recall: metrics.recall,
      images: data.images.length,
      instances: metrics.instances,
      model: options.model,
      dataset: dataset.root,
      split,
      imagesPerSecond: data.images.length / Math.max(1e-9, elapsedS),
      inferenceImagesPerSecond: data.images.length / Math.max(1e-9, detectorMs / 1000),
      provider: detector.info.provider,
      classMapping: { by: mapping.by, unmatchedDatasetClasses: mapping.unmatchedDatasetClasses },
      backgroundImages: data.backgroundImages,
      settings: { conf, iou, maxDetections, prConf },
    };
  } finally {
    if (!options.detector) await detector.close();
  }
}
