/**
 * Decodes image files through real GStreamer pipelines, scaled inside GStreamer to exactly the size
 * the model wants (the letterbox content size for each file's native size).
 *
 * One pipeline per codec is built once and reused: the file and the output size are properties set
 * while it is in NULL (no path ever goes through gst-launch parsing). Reuse matters because the binding
 * never frees a pipeline: a fresh one per image keeps ~0.3 MB per decode (1352×900 JPEG to 640×426),
 * a reused one stays flat (400 decodes measured).
 *
 * Threadpool hygiene: `appsink.pull` and `pollBus` each park a libuv threadpool thread. The pull
 * returns on a sample, on EOS, or when stop() flushes the sink. The bus poll returns on the next
 * message, and the binding polls again only while the pipeline is not in NULL. stop() from PLAYING
 * posts state-changed messages, but with the pipeline's default auto-flush-bus they are flushed on
 * READY→NULL, and a poll thread that had not run yet stays blocked for good (seen under CPU load).
 * So auto-flush-bus stays off while a decode runs, a decode settles only after both threads are back,
 * and the pipeline is then cycled to a clean NULL (bus flushed, appsink's last sample dropped).
 */
import type { PixelFormat, RgbFrame } from '@edgefleet/vision';
import { EdgeError } from '../errors.js';
import {
  asAppSink,
  gst,
  type GstAppSink,
  type GstBusMessage,
  type GstElement,
  type GstPipeline,
} from './gst-binding.js';
import { readImageHeader, type ImageHeader } from './image-header.js';
import { fitCaps, gstQuote, type FitFn, type Size } from './pipeline-description.js';
import { sampleToRgbFrame } from './rgb-sample.js';
import type { ImageCodec } from './source-spec.js';

export interface StillImageOptions {
  /** Channel order to deliver (the model's pixel format). */
  readonly format: PixelFormat;
  /** Upper bound for one decode, default 10 s. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** How long to wait for the pull and bus threads after stop() before giving the pipeline up. */
const RELEASE_TIMEOUT_MS = 2_000;

/**
 * Decoder per codec. JPEG uses the accurate integer IDCT (libjpeg's default, which OpenCV and PIL use
 * too) instead of jpegdec's default "ifast", so detections match reference preprocessing more closely.
 */
const DECODERS: Readonly<Record<ImageCodec, string>> = { jpeg: 'jpegdec idct-method=islow', png: 'pngdec' };

export function stillImageDescription(codec: ImageCodec, format: PixelFormat): string {
  // add-borders=false: the fit size already keeps the aspect ratio; borders would shift boxes.
  return (
    `filesrc name=src ! ${DECODERS[codec]} ! videoconvert ! videoscale add-borders=false ! ` +
    `capsfilter name=fit caps=${gstQuote(fitCaps(format, null))} ! appsink name=sink max-buffers=1 sync=false enable-last-sample=false`
  );
}

interface StillPipeline {
  readonly pipeline: GstPipeline;
  readonly src: GstElement;
  readonly fit: GstElement;
  readonly sink: GstAppSink;
}

type Outcome = { readonly frame: RgbFrame } | { readonly error: Error };
interface BusRelay {
  handler: ((msg: GstBusMessage) => void) | null;
}

/**
 * The binding keeps every pollBus callback for the life of the process. Handing it a closure over this
 * small relay only (its own scope) lets the real handler, and through `resolve` the decoded frame, be
 * collected once the relay drops it; a handler passed directly kept ~0.8 MB per decode alive.
 */
function pollBusVia(pipeline: GstPipeline, relay: BusRelay): void {
  pipeline.pollBus((msg) => relay.handler?.(msg));
}

/**
 * Back to a clean NULL after a decode, once no thread polls or pulls any more:
 * - messages still queued on the bus (a decoder's second error, the EOS after our sample) would
 *   otherwise reach the next decode's handler; they are flushed on the way back to NULL;
 * - appsink keeps its last sample across stop() and pins the pools behind it; going through PAUSED
 *   runs appsink's start(), which drops it.
 * The source is pointed at nothing first, so nothing is read on the way.
 */
function resetPipeline(p: StillPipeline): void {
  p.src.location = '';
  p.pipeline['auto-flush-bus'] = true;
  p.pipeline.pause();
  p.pipeline.stop();
  p.pipeline['auto-flush-bus'] = false;
}

/**
 * One decode on a clean pipeline in NULL: play, pull one sample, stop. Resolves once both threadpool
 * threads are back and the pipeline is reset (`released`), or after RELEASE_TIMEOUT_MS without them
 * (the pipeline must then be dropped).
 */
function decodeOnce(
  p: StillPipeline,
  path: string,
  header: ImageHeader,
  size: Size,
  format: PixelFormat,
  timeoutMs: number,
): Promise<{ outcome: Outcome; released: boolean }> {
  return new Promise((resolve) => {
    let outcome: Outcome | null = null;
    let stopped = false;
    let done = false;
    let pullPending = true;
    let busPolling = true;
    let eos = false;
    let releaseTimer: NodeJS.Timeout | undefined;

    const finish = (released: boolean): void => {
      if (done || outcome === null) return;
      done = true;
      clearTimeout(releaseTimer);
      relay.handler = null;
      if (released) resetPipeline(p);
      resolve({ outcome, released });
    };
    const maybeFinish = (): void => {
      // Outside the callbacks: the binding checks the pipeline state right after a bus callback returns.
      if (outcome !== null && !pullPending && !busPolling) setImmediate(() => finish(true));
    };
    const settle = (result: Outcome): void => {
      if (outcome !== null) return;
      outcome = result;
      stopped = true;
      clearTimeout(timer);
      p.pipeline.stop();
      releaseTimer = setTimeout(() => finish(false), RELEASE_TIMEOUT_MS);
      maybeFinish();
    };
    const decodeError = (reason: string, details?: unknown): Outcome => ({
      error: new EdgeError(
        'EDGE_ERR_IMAGE_DECODE',
        `${path}: ${reason}`,
        details === undefined ? undefined : { details },
      ),
    });
    const noFrame = (): void => settle(decodeError('the decoder produced no frame (corrupt or truncated image)'));
    const timer = setTimeout(() => settle(decodeError(`no frame within ${timeoutMs} ms`)), timeoutMs);

    const relay: BusRelay = { handler: null };
    relay.handler = (msg: GstBusMessage) => {
      if (!stopped) {
        if (msg.type === 'error') {
          const from = msg._src_element_name ? ` (from ${msg._src_element_name})` : '';
          settle(decodeError(`${msg.message ?? 'GStreamer error'}${from}`, msg));
        } else if (msg.type === 'eos') {
          eos = true;
          // A sample queued before EOS still goes to the pending pull; only EOS plus an empty pull means no frame.
          if (!pullPending) noFrame();
        }
      }
      // Once stopped (here or before this message), the binding does not poll again.
      if (stopped) {
        busPolling = false;
        maybeFinish();
      }
    };
    pollBusVia(p.pipeline, relay);
    // Pull only after play(): an appsink that has not started yet answers a pull with null at once.
    p.pipeline.play();
    p.sink.pull((buf, caps) => {
      pullPending = false;
      if (stopped) {
        maybeFinish();
        return;
      }
      if (buf === null) {
        if (eos) noFrame();
        return;
      }
      try {
        if (caps.width !== size.width || caps.height !== size.height) {
          throw new EdgeError(
            'EDGE_ERR_PIPELINE',
            `${path}: GStreamer delivered ${String(caps.width)}x${String(caps.height)}, asked for ${size.width}x${size.height}`,
          );
        }
        settle({ frame: sampleToRgbFrame(buf, caps, format, header) });
      } catch (err) {
        settle({ error: err as Error });
      }
    });
  });
}

/**
 * Decodes JPEG/PNG files one at a time (calls queue up) to packed RGB/BGR frames of `fit(nativeW, nativeH)`
 * pixels. Errors: EDGE_ERR_IMAGE_DECODE for unreadable, unknown, corrupt or undecodable files (with
 * GStreamer's message when it reported one), EDGE_ERR_PIPELINE when a pipeline cannot be built.
 */
export class StillImageDecoder {
  private readonly pipelines = new Map<ImageCodec, StillPipeline>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: StillImageOptions) {}

  decode(path: string, fit: FitFn): Promise<RgbFrame> {
    if (this.closed) return Promise.reject(new EdgeError('EDGE_ERR_PIPELINE', 'still-image decoder is closed'));
    const result = this.queue.then(() => this.decodeNow(path, fit));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Waits for queued decodes; the pipelines are already back in NULL after each one. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    this.pipelines.clear();
  }

  private async decodeNow(path: string, fit: FitFn): Promise<RgbFrame> {
    const header = await readImageHeader(path);
    const size = fit(header.width, header.height);
    const caps = fitCaps(this.options.format, size); // also checks the size
    const p = this.pipelineFor(header.codec);
    p.src.location = path;
    p.fit.caps = caps;
    const { outcome, released } = await decodeOnce(
      p,
      path,
      header,
      size,
      this.options.format,
      this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
    // A pipeline whose threads did not come back is not reused.
    if (!released) this.pipelines.delete(header.codec);
    if ('error' in outcome) throw outcome.error;
    return outcome.frame;
  }

  private pipelineFor(codec: ImageCodec): StillPipeline {
    const cached = this.pipelines.get(codec);
    if (cached) return cached;
    const description = stillImageDescription(codec, this.options.format);
    let pipeline: GstPipeline;
    try {
      pipeline = new (gst().Pipeline)(description);
    } catch (err) {
      throw new EdgeError('EDGE_ERR_PIPELINE', `cannot build ${codec} decoder: ${(err as Error).message}`, {
        cause: err,
        details: description,
      });
    }
    const src = pipeline.findChild('src');
    const fit = pipeline.findChild('fit');
    const sink = asAppSink(pipeline.findChild('sink'));
    if (src === undefined || fit === undefined || sink === null) {
      throw new EdgeError('EDGE_ERR_PIPELINE', `${codec} decoder pipeline lacks src, fit or sink`, {
        details: description,
      });
    }
    // Keep the messages posted on the way to NULL: they wake a bus poll parked when stop() comes from outside it.
    pipeline['auto-flush-bus'] = false;
    const created = { pipeline, src, fit, sink };
    this.pipelines.set(codec, created);
    return created;
  }
}

/** Decodes one file with a decoder of its own (see StillImageDecoder). */
export async function decodeStillImage(
  path: string,
  options: StillImageOptions & { readonly fit: FitFn },
): Promise<RgbFrame> {
  const decoder = new StillImageDecoder(options);
  try {
    return await decoder.decode(path, options.fit);
  } finally {
    await decoder.close();
  }
}
