import { isVisionError, OnnxDetector } from '@edgefleet/vision';
import { CpError } from '../errors.js';

/**
 * What an upload must be: an ONNX file ONNX Runtime loads, whose inputs and outputs a detector adapter
 * recognises, with class names. Names count as present when the export's metadata lists them (Ultralytics
 * `names`) or when the adapter knows them by convention (an 80-class model without metadata is COCO-80,
 * like the YOLOX exports); numbered placeholders (`class0`, `class1`…) mean the model has none.
 */

export interface ModelFacts {
  readonly adapter: string;
  readonly classNames: readonly string[];
  readonly inputWidth: number;
  readonly inputHeight: number;
}

const PLACEHOLDER = /^class\d+$/;

export type ModelValidator = (path: string) => Promise<ModelFacts>;

export const validateOnnxDetector: ModelValidator = async (path) => {
  let detector: OnnxDetector;
  try {
    detector = await OnnxDetector.load(path, { providers: ['cpu'] });
  } catch (err) {
    if (isVisionError(err, 'VISION_ERR_MODEL_NOT_DETECTOR'))
      throw new CpError('CP_ERR_MODEL_NOT_DETECTOR', err.detail, { cause: err });
    if (isVisionError(err, 'VISION_ERR_MODEL_METADATA')) {
      const code = /'names'/.test(err.detail ?? '') ? 'CP_ERR_MODEL_NO_CLASS_NAMES' : 'CP_ERR_MODEL_NOT_DETECTOR';
      throw new CpError(code, `metadata: ${err.detail ?? err.message}`, { cause: err });
    }
    if (isVisionError(err, 'VISION_ERR_MODEL_CORRUPT') || isVisionError(err, 'VISION_ERR_MODEL_READ')) {
      // The detail names the spool file; the uploader only needs ONNX Runtime's reason.
      const reason = (err.detail ?? err.message).replace(`${path}: `, '');
      throw new CpError('CP_ERR_MODEL_CORRUPT', reason, { cause: err });
    }
    throw err;
  }
  try {
    const { adapter, classNames, inputWidth, inputHeight } = detector.info;
    if (classNames.length === 0 || classNames.every((n) => PLACEHOLDER.test(n))) {
      throw new CpError(
        'CP_ERR_MODEL_NO_CLASS_NAMES',
        `${classNames.length} classes without names: export the model with its class names (Ultralytics "names" metadata)`,
      );
    }
    return { adapter, classNames: [...classNames], inputWidth, inputHeight };
  } finally {
    await detector.close();
  }
};
