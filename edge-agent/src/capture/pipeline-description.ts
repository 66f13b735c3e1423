/**
 * Pure builders of gst-launch descriptions, one per source kind, generic and Jetson variants.
 *
 * Every description ends in the same tail:
 *   `… ! videoscale add-borders=false ! videoconvert ! capsfilter name=fit caps="video/x-raw,format=RGB,…" ! appsink name=sink …`
 * so scaling and colour conversion happen inside GStreamer and the appsink hands out packed RGB/BGR at
 * the model's letterbox content size. Scaling comes before conversion because on the usual downscale
 * (1080p → 640×360) converting fewer pixels is cheaper (measured with GStreamer 1.22 on this host:
 * about 2.9 ms per frame instead of 4.5 ms for convert-then-scale); `add-borders=false` because the
 * fit size keeps the aspect ratio already and borders would shift boxes. On Jetson, nvvidconv sits
 * before the tail and negotiation lets it do the scaling in hardware (videoscale then passes through).
 *
 * When the native size is unknown (files, RTSP, image sequences, V4L2 without a configured size)
 * the fit caps carry only format and pixel-aspect-ratio; the frame source sets the final caps on the
 * `fit` element after the first sample (see gst-pipeline-session.ts).
 */
import type { PixelFormat } from '@edgefleet/vision';
import type {
  CsiSpec,
  ImageCodec,
  ImageSequenceSpec,
  RtspSpec,
  SourceSpec,
  StillImageSpec,
  SyntheticSpec,
  TestPatternSpec,
  V4l2Spec,
  VideoFileSpec,
} from './source-spec.js';
import { isLiveSpec } from './source-spec.js';

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Maps a native source size to the letterbox content size the model wants (e.g. 1920×1080 → 640×360). */
export type FitFn = (sourceWidth: number, sourceHeight: number) => Size;

/** An image sequence once its files are laid out for multifilesrc (see image-sequence.ts). */
export interface ResolvedImageSequence {
  /** multifilesrc printf pattern, `%` in directory names already doubled. */
  readonly location: string;
  readonly codec: ImageCodec;
  readonly count: number;
  /**
   * The common native size of all images (from their headers), or null when sizes differ: then
   * nothing is scaled in GStreamer and each frame comes at its own size (a fixed fit size would
   * distort every image whose aspect differs from the first).
   */
  readonly size: Size | null;
}

export type ResolvedSequenceSpec = ImageSequenceSpec & { readonly resolved: ResolvedImageSequence };
/** A still image, with its size when its header has been read (then the fit caps are set from the start). */
export type ResolvedStillImageSpec = StillImageSpec & { readonly size?: Size };
/** What the builders take: a source spec, with image sequences resolved to files on disk. */
export type PipelineSource =
  | Exclude<SourceSpec, ImageSequenceSpec | StillImageSpec>
  | ResolvedSequenceSpec
  | ResolvedStillImageSpec;

export interface PipelineOutput {
  readonly format: PixelFormat;
  /** Letterbox content size, or null while the native size is still to be learned. */
  readonly size: Size | null;
}

export const FIT_ELEMENT = 'fit';
export const SINK_ELEMENT = 'sink';
/** The source element (filesrc, multifilesrc, rtspsrc, v4l2src, videotestsrc, nvarguscamerasrc, appsrc). */
export const SOURCE_ELEMENT = 'src';

/** Double-quoted gst-launch string: backslash and double quote escaped (gst_parse unescapes them). */
export function gstQuote(value: string): string {
  if (value.includes('\0')) throw new TypeError('GStreamer property values cannot contain NUL');
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** multifilesrc runs its location through printf: a literal `%` must be doubled. */
export function escapePrintf(path: string): string {
  return path.replace(/%/g, '%%');
}

/** GStreamer fraction for a frame rate: 10 → "10/1", 7.5 → "15/2", 29.97 → "2997/100". */
export function fpsFraction(fps: number): string {
  if (Number.isInteger(fps)) return `${fps}/1`;
  let num = Math.round(fps * 1000);
  let den = 1000;
  const g = gcd(num, den);
  num /= g;
  den /= g;
  return `${num}/${den}`;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Caps of the `fit` capsfilter: format and square pixels, plus the size once known. */
export function fitCaps(format: PixelFormat, size: Size | null): string {
  const base = `video/x-raw,format=${format},pixel-aspect-ratio=1/1`;
  if (size === null) return base;
  checkSize(size);
  return `${base},width=${size.width},height=${size.height}`;
}

function checkSize(size: Size): void {
  for (const v of [size.width, size.height]) {
    if (!Number.isInteger(v) || v < 1 || v > 16384) {
      throw new RangeError(`fit size must be positive integers up to 16384, got ${size.width}x${size.height}`);
    }
  }
}

/**
 * Native size when it is known before the first frame (test pattern, CSI, V4L2 with width/height,
 * images whose headers were read); otherwise null and it is learned from the first sample.
 */
export function knownSourceSize(source: PipelineSource): Size | null {
  switch (source.kind) {
    case 'testsrc':
    case 'csi':
    case 'synthetic':
      return { width: source.width, height: source.height };
    case 'v4l2':
      return source.width !== null && source.height !== null ? { width: source.width, height: source.height } : null;
    case 'image':
      return source.size ?? null;
    case 'image-sequence':
      return source.resolved.size;
    default:
      return null;
  }
}

/** Whether frames keep their native size (an image sequence of mixed sizes): no fit size is ever set. */
export function keepsNativeSize(source: PipelineSource): boolean {
  return source.kind === 'image-sequence' && source.resolved.size === null;
}

/**
 * appsink settings. Live sources: one buffer, drop the oldest in the sink so a stalled event loop
 * never blocks the camera's streaming thread (the JS pull loop normally empties it at once and the
 * latest-frame mailbox counts the drops). Files and image sequences: one buffer without dropping,
 * so decoding waits for the consumer (backpressure) or, with realtime, for the clock (sync=true).
 */
export function appsinkProperties(spec: SourceSpec): string {
  const live = isLiveSpec(spec);
  const liveDevice = isLiveDevice(spec);
  const drop = liveDevice;
  // Files in realtime mode are paced by the sink clock; everything else is delivered as soon as decoded.
  const sync = live && !liveDevice;
  return `max-buffers=1 drop=${drop} sync=${sync} enable-last-sample=false`;
}

const LIVE_DEVICES = ['rtsp', 'v4l2', 'csi', 'testsrc', 'synthetic'] as const;

/** Sources that produce frames on their own clock whatever the consumer does (as opposed to files in realtime mode). */
export function isLiveDevice<T extends { readonly kind: SourceSpec['kind'] }>(
  spec: T,
): spec is Extract<T, { readonly kind: (typeof LIVE_DEVICES)[number] }> {
  return (LIVE_DEVICES as readonly string[]).includes(spec.kind);
}

/** The full gst-launch description for a source. */
export function buildPipelineDescription(source: PipelineSource, output: PipelineOutput): string {
  const head = sourceHead(source);
  const tail =
    `videoscale add-borders=false ! videoconvert ! ` +
    `capsfilter name=${FIT_ELEMENT} caps=${gstQuote(fitCaps(output.format, output.size))} ! ` +
    `appsink name=${SINK_ELEMENT} ${appsinkProperties(source)}`;
  return `${head} ! ${tail}`;
}

function sourceHead(source: PipelineSource): string {
  switch (source.kind) {
    case 'file':
      return fileHead(source);
    case 'image':
      return stillImageHead(source);
    case 'image-sequence':
      return sequenceHead(source);
    case 'rtsp':
      return rtspHead(source);
    case 'v4l2':
      return v4l2Head(source);
    case 'csi':
      return csiHead(source);
    case 'testsrc':
      return testsrcHead(source);
    case 'synthetic':
      return syntheticHead(source);
  }
}

/** Jetson: NVMM → system memory in a format nvvidconv writes and videoconvert reads. */
const NV_TO_SYSTEM = 'nvvidconv ! video/x-raw,format=BGRx';

const DEMUXERS = { mp4: 'qtdemux', matroska: 'matroskademux', avi: 'avidemux', mpegts: 'tsdemux' } as const;

function fileHead(spec: VideoFileSpec): string {
  const src = `filesrc name=${SOURCE_ELEMENT} location=${gstQuote(spec.path)}`;
  if (spec.platform === 'generic') return `${src} ! decodebin`;
  if (spec.codec === 'auto') return `${src} ! decodebin ! ${NV_TO_SYSTEM}`;
  const parser = spec.codec === 'h264' ? 'h264parse' : 'h265parse';
  if (spec.container === 'unknown') throw new RangeError(`no demuxer for ${spec.path}; use codec 'auto'`);
  const demux = spec.container === 'elementary' ? '' : `${DEMUXERS[spec.container]} ! `;
  return `${src} ! ${demux}${parser} ! nvv4l2decoder ! ${NV_TO_SYSTEM}`;
}

function decoderFor(codec: ImageCodec): string {
  return codec === 'jpeg' ? 'jpegdec' : 'pngdec';
}

function imageCaps(codec: ImageCodec, fps: number): string {
  return gstQuote(`image/${codec},framerate=${fpsFraction(fps)}`);
}

/** A still image is a one-file multifilesrc: stop-index=0 ends after it, loop=true repeats it at `fps`. */
function stillImageHead(spec: ResolvedStillImageSpec): string {
  return (
    `multifilesrc name=${SOURCE_ELEMENT} location=${gstQuote(escapePrintf(spec.path))} index=0 start-index=0 stop-index=0 ` +
    `loop=${spec.loop} caps=${imageCaps(spec.codec, spec.fps)} ! ${decoderFor(spec.codec)}`
  );
}

function sequenceHead(spec: ResolvedSequenceSpec): string {
  const r = spec.resolved;
  return (
    `multifilesrc name=${SOURCE_ELEMENT} location=${gstQuote(r.location)} index=0 start-index=0 stop-index=${r.count - 1} ` +
    `loop=${spec.loop} caps=${imageCaps(r.codec, spec.fps)} ! ${decoderFor(r.codec)}`
  );
}

function rtspHead(spec: RtspSpec): string {
  const protocols = spec.transport === 'auto' ? '' : ` protocols=${spec.transport}`;
  // Only the video stream: without the filter, decodebin could be linked to an audio pad.
  const src =
    `rtspsrc name=${SOURCE_ELEMENT} location=${gstQuote(spec.uri)} latency=${spec.latencyMs}${protocols} drop-on-latency=true ` +
    `! application/x-rtp,media=video`;
  if (spec.platform === 'generic') return `${src} ! decodebin`;
  if (spec.codec === 'auto') return `${src} ! decodebin ! ${NV_TO_SYSTEM}`;
  const [depay, parser] = spec.codec === 'h264' ? ['rtph264depay', 'h264parse'] : ['rtph265depay', 'h265parse'];
  return `${src} ! ${depay} ! ${parser} ! nvv4l2decoder ! ${NV_TO_SYSTEM}`;
}

function v4l2Head(spec: V4l2Spec): string {
  const fields: string[] = [];
  if (spec.format !== null && spec.format !== 'mjpeg') fields.push(`format=${spec.format}`);
  if (spec.width !== null && spec.height !== null) fields.push(`width=${spec.width}`, `height=${spec.height}`);
  if (spec.fps !== null) fields.push(`framerate=${fpsFraction(spec.fps)}`);
  const media = spec.format === 'mjpeg' ? 'image/jpeg' : 'video/x-raw';
  const caps = fields.length > 0 || spec.format === 'mjpeg' ? ` ! ${[media, ...fields].join(',')}` : '';
  const src = `v4l2src name=${SOURCE_ELEMENT} device=${gstQuote(spec.device)}${caps}`;
  if (spec.platform === 'generic') return spec.format === 'mjpeg' ? `${src} ! jpegdec` : src;
  return spec.format === 'mjpeg' ? `${src} ! nvv4l2decoder mjpeg=1 ! ${NV_TO_SYSTEM}` : `${src} ! ${NV_TO_SYSTEM}`;
}

function csiHead(spec: CsiSpec): string {
  return (
    `nvarguscamerasrc name=${SOURCE_ELEMENT} sensor-id=${spec.sensorId} ! ` +
    `video/x-raw(memory:NVMM),width=${spec.width},height=${spec.height},framerate=${fpsFraction(spec.fps)},format=NV12 ! ` +
    NV_TO_SYSTEM
  );
}

function testsrcHead(spec: TestPatternSpec): string {
  return (
    `videotestsrc name=${SOURCE_ELEMENT} is-live=true pattern=${spec.pattern} ! ` +
    `video/x-raw,width=${spec.width},height=${spec.height},framerate=${fpsFraction(spec.fps)}`
  );
}

/**
 * Frames rendered in JS and pushed by synthetic-feeder.ts: packed RGB whose rows are padded to 4
 * bytes (GStreamer's stride for 24-bit formats). Live and timestamped on arrival (do-timestamp),
 * like a camera. No leaky-type/max-buffers (GStreamer 1.20+, absent on JetPack 5's 1.16): the feeder
 * never has more than one frame in the pipeline, which bounds appsrc's queue instead.
 */
function syntheticHead(spec: SyntheticSpec): string {
  const caps = `video/x-raw,format=RGB,width=${spec.width},height=${spec.height},framerate=${fpsFraction(spec.fps)},pixel-aspect-ratio=1/1`;
  return `appsrc name=${SOURCE_ELEMENT} is-live=true format=time do-timestamp=true caps=${gstQuote(caps)}`;
}
