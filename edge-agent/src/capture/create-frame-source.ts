/**
 * Builds a camera's FrameSource from its validated configuration (the agent's composition root
 * calls this once per enabled camera).
 */
import { computeLetterbox, type ModelInfo } from '@edgefleet/vision';
import type { CameraConfig } from '../config/agent-config-schema.js';
import type { Logger } from '@edgefleet/service-kit';
import type { FrameOutput } from './gst-frame-source.js';
import { GstFrameSource } from './gst-frame-source.js';
import { parseSourceSpec, type SourceOptions } from './source-spec.js';

export type ModelInput = Pick<ModelInfo, 'inputWidth' | 'inputHeight' | 'pixelFormat'>;

export interface CreateFrameSourceDeps {
  readonly logger: Logger;
  /**
   * The model the frames feed (may resolve once it has loaded): its input size gives the letterbox
   * content size GStreamer scales to, its pixel format the channel order.
   */
  readonly fit: () => Promise<ModelInput>;
}

/** Output settings for a model: scale into its letterbox content size, in its channel order. */
export function frameOutputFor(model: ModelInput): FrameOutput {
  return {
    format: model.pixelFormat,
    fit: (w, h) => {
      const g = computeLetterbox(w, h, model.inputWidth, model.inputHeight, 'center');
      return { width: g.width, height: g.height };
    },
  };
}

/**
 * @throws EdgeError EDGE_ERR_SOURCE_URI when the camera's URI or options are invalid (at build time).
 */
export function createFrameSource(camera: CameraConfig, deps: CreateFrameSourceDeps): GstFrameSource {
  const options: SourceOptions = {
    platform: camera.platform,
    loop: camera.loop,
    realtime: camera.realtime,
    fps: camera.fps,
    width: camera.width,
    height: camera.height,
    format: camera.format,
    latencyMs: camera.latencyMs,
    transport: camera.transport,
    codec: camera.codec,
    pattern: camera.pattern,
    schedule: camera.schedule,
    seed: camera.seed,
  };
  const source = new GstFrameSource({
    cameraId: camera.id,
    spec: parseSourceSpec(camera.uri, options),
    output: async () => frameOutputFor(await deps.fit()),
    stallTimeoutMs: camera.stallTimeoutMs,
    maxRestarts: camera.maxRestarts,
  });
  // Listeners belong to the source and are removed by its stop().
  source.on('failure', (e) => {
    deps.logger.warn('camera source failed', { error: e.message, code: e.code, restartInMs: e.restartInMs });
  });
  let lastState: string | null = null;
  source.on('status', (s) => {
    if (s.state === lastState) return;
    lastState = s.state;
    deps.logger.info('camera state', { state: s.state, restarts: s.restarts, source: source.status().source });
  });
  return source;
}
