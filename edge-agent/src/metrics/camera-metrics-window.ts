import type { CameraMetrics } from '@edgefleet/proto';
import type { DetectTimings } from '@edgefleet/vision';
import type { ImageStatistics } from './image-statistics.js';
import { SampleWindow } from './sample-window.js';

/** Percentiles and means are over this many recent frames of the camera. */
const WINDOW_FRAMES = 256;

/**
 * One camera's recent timings and image statistics, for the per-camera entries of DeviceMetrics: inference
 * p50/p95, pre- and post-processing p50, and mean brightness and contrast (luma mean and std).
 */
export class CameraMetricsWindow {
  private readonly inferMs = new SampleWindow(WINDOW_FRAMES);
  private readonly preMs = new SampleWindow(WINDOW_FRAMES);
  private readonly postMs = new SampleWindow(WINDOW_FRAMES);
  private readonly brightness = new SampleWindow(WINDOW_FRAMES);
  private readonly contrast = new SampleWindow(WINDOW_FRAMES);

  addTimings(timings: DetectTimings): void {
    this.inferMs.add(timings.inferMs);
    this.preMs.add(timings.preMs);
    this.postMs.add(timings.postMs);
  }

  addImageStatistics(stats: Pick<ImageStatistics, 'brightness' | 'contrast'>): void {
    this.brightness.add(stats.brightness);
    this.contrast.add(stats.contrast);
  }

  snapshot(cameraId: string, counts: { readonly fps: number; readonly framesDropped: number }): CameraMetrics {
    return {
      cameraId,
      fps: counts.fps,
      framesDropped: counts.framesDropped,
      inferenceMsP50: this.inferMs.percentile(50),
      inferenceMsP95: this.inferMs.percentile(95),
      preMsP50: this.preMs.percentile(50),
      postMsP50: this.postMs.percentile(50),
      brightnessMean: this.brightness.mean(),
      contrastMean: this.contrast.mean(),
    };
  }
}
