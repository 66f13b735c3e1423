/**
 * The detection models the vision tests read from ../shared (never copied into the repository).
 */
import { sharedModel } from '@edgefleet/service-kit/testing';

export const YOLOV8_MODEL = (): string => sharedModel('yolov8n_int8.onnx');
export const YOLOX_MODEL = (): string => sharedModel('yolox_nano.onnx');
