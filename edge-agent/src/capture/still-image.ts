/**
 * One-shot decode of an image file through a real GStreamer pipeline, scaled inside GStreamer to
 * exactly the size the model wants (the letterbox content size for the file's native size).
 *
 * Threadpool hygiene: `appsink.pull` and `pollBus` each park a libuv threadpool thread. The pull
 * returns on a sample, on EOS, or when stop() flushes the sink. The bus poll returns on the next
 * message, and the binding polls again only while the pipeline is not in NULL. stop() from PLAYING
 * posts state-changed messages, but with the pipeline's default auto-flush-bus they are flushed on
 * READY→NULL, and a poll thread that had not run yet stays blocked for good (seen under CPU load).
 * So auto-flush-bus is off while we poll, and the promise settles only after both threads are back.
 */
import type { PixelFormat, RgbFrame } from '@edgefleet/vision';
import { EdgeError } from '../errors.js';
import { asAppSink, gst, type GstBusMessage, type GstPipeline } from './gst-binding.js';
import { readImageHeader, type ImageHeader } from './image-header.js';
import { gstQuote, type FitFn, type Size } from './pipeline-description.js';
import { sampleToRgbFrame } from './rgb-sample.js';

export interface StillImageOptions {
  /** Native size → size to deliver, e.g. `(w, h) => detector.letterboxFor(w, h)`. */
  readonly fit: FitFn;
  /** Channel order to deliver (the model's pixel format). */
  readonly format: PixelFormat;
  /** Upper bound for the whole decode, default 10 s. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const RELEASE_TIMEOUT_MS = 2_000;

/**
 * Decoder per codec. JPEG uses the accurate integer IDCT (libjpeg's default, which OpenCV and PIL use
 * too) instead of jpegdec's default "ifast", so detections match reference preprocessing more closely.
 */
function decoderFor(header: ImageHeader): string {
  return header.codec === 'jpeg' ? 'jpegdec idct-method=islow' : 'pngdec';
}

export function stillImageDescription(path: string, header: ImageHeader, size: Size, format: PixelFormat): string {
  // add-borders=false: the fit size already keeps the aspect ratio; borders would shift boxes.
  return (
    `filesrc name=src location=${gstQuote(path)} ! ${decoderFor(header)} ! videoconvert ! videoscale add-borders=false ! ` +
    `video/x-raw,format=${format},width=${size.width},height=${size.height},pixel-aspect-ratio=1/1 ! ` +
    `appsink name=sink max-buffers=1 sync=false enable-last-sample=false`
  );
}

function checkSize(size: Size): void {
  if (!Number.isInteger(size.width) || size.width < 1 || !Number.isInteger(size.height) || size.height < 1) {
    throw new RangeError(`fit returned ${size.width}x${size.height}; expected positive integers`);
  }
}

/**
 * appsink keeps its last sample across stop() and an abandoned pipeline pins the buffer pools behind it;
 * cycling through PAUSED runs appsink's start(), which drops it. The source is pointed at nothing
 * first so nothing is read on the way; messages of this last cycle are flushed (nobody polls any more).
 */
function releaseRetainedSample(pipeline: GstPipeline): void {
  const src = pipeline.findChild('src');
  if (src === undefined) return;
  src['location'] = '';
  pipeline['auto-flush-bus'] = true;
  pipeline.pause();
  pipeline.stop();
}

type Outcome = { readonly frame: RgbFrame } | { readonly error: Error };

function run(path: string, pipeline: GstPipeline, header: ImageHeader, size: Size, format: PixelFormat, timeoutMs: number): Promise<RgbFrame> {
  const sink = asAppSink(pipeline.findChild('sink'));
  if (sink === null) {
    pipeline.stop();
    return Promise.reject(new EdgeError('EDGE_ERR_PIPELINE', `${path}: pipeline has no appsink named 'sink'`));
  }
  return new Promise<RgbFrame>((resolve, reject) => {
    let outcome: Outcome | null = null;
    let stopped = false;
    let delivered = false;
    let pullPending = true;
    let busPolling = true;
    let eos = false;
    let releaseTimer: NodeJS.Timeout | undefined;

    const deliver = (released: boolean): void => {
      if (delivered || outcome === null) return;
      delivered = true;
      clearTimeout(releaseTimer);
      if (released) releaseRetainedSample(pipeline);
      if ('frame' in outcome) resolve(outcome.frame);
      else reject(outcome.error);
    };
    // Answer only once both threadpool threads are back, so a caller never leaves one blocked behind.
    const maybeDeliver = (): void => {
      if (outcome !== null && !pullPending && !busPolling) setImmediate(() => deliver(true));
    };
    const settle = (result: Outcome): void => {
      if (outcome !== null) return;
      outcome = result;
      stopped = true;
      clearTimeout(timer);
      pipeline.stop();
      // Should a thread not come back (it never did in testing), answer anyway rather than hang the caller.
      releaseTimer = setTimeout(() => deliver(false), RELEASE_TIMEOUT_MS);
      maybeDeliver();
    };
    const decodeError = (reason: string, details?: unknown): Outcome => ({
      error: new EdgeError('EDGE_ERR_IMAGE_DECODE', `${path}: ${reason}`, details === undefined ? undefined : { details }),
    });
    const noFrame = (): void => settle(decodeError('the decoder produced no frame (corrupt or truncated image)'));
    const timer = setTimeout(() => settle(decodeError(`no frame within ${timeoutMs} ms`)), timeoutMs);

    // Keep the messages posted on the way to NULL: they are what wakes a poll blocked when stop() comes
    // from outside the bus callback (with auto-flush they can be flushed before the poll thread runs).
    pipeline['auto-flush-bus'] = false;
    pipeline.pollBus((msg: GstBusMessage) => {
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
      // The binding polls again only while the pipeline is not in NULL: once stopped, this was the last one.
      if (stopped) {
        busPolling = false;
        maybeDeliver();
      }
    });
    // Pull only after play(): an appsink that has not started yet answers a pull with null at once.
    pipeline.play();
    sink.pull((buf, caps) => {
      pullPending = false;
      if (stopped) {
        maybeDeliver();
        return;
      }
      if (buf === null) {
        if (eos) noFrame();
        return;
      }
      try {
        if (caps.width !== size.width || caps.height !== size.height) {
          throw new EdgeError('EDGE_ERR_PIPELINE', `${path}: GStreamer delivered ${String(caps.width)}x${String(caps.height)}, asked for ${size.width}x${size.height}`);
        }
        settle({ frame: sampleToRgbFrame(buf, caps, format, header) });
      } catch (err) {
        settle({ error: err as Error });
      }
    });
  });
}

/**
 * Decodes `path` (JPEG or PNG) to a packed frame of `options.fit(nativeW, nativeH)` pixels.
 * Throws EDGE_ERR_IMAGE_DECODE for unreadable, unknown, corrupt or undecodable files (with GStreamer's
 * message when it reported one) and EDGE_ERR_PIPELINE when the pipeline cannot be built.
 */
export async function decodeStillImage(path: string, options: StillImageOptions): Promise<RgbFrame> {
  const header = await readImageHeader(path);
  const size = options.fit(header.width, header.height);
  checkSize(size);
  const description = stillImageDescription(path, header, size, options.format);
  let pipeline: GstPipeline;
  try {
    pipeline = new (gst().Pipeline)(description);
  } catch (err) {
    throw new EdgeError('EDGE_ERR_PIPELINE', `${path}: ${(err as Error).message}`, { cause: err, details: description });
  }
  return run(path, pipeline, header, size, options.format, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
}
