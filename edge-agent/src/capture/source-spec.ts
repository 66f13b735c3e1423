/**
 * What a camera source is, parsed and validated from its URI plus options. Pure: no file system or
 * GStreamer access (image sequences are expanded later, by image-sequence.ts, when the pipeline is built).
 *
 * Supported URIs:
 * - `file:///abs/video.mp4`: a video file (any container/codec GStreamer's decodebin can open). Options: `loop`, `realtime`, `codec` (Jetson).
 * - `file:///abs/photo.jpg` (`.jpg`, `.jpeg`, `.png`): a still image, delivered once (or repeated at `fps` with `loop`).
 * - `dir:///abs/dir`: every `.jpg`/`.jpeg`/`.png` in the directory, in natural filename order (`img-2` before `img-10`).
 * - `file:///abs/dir/*.jpg`: the files of one directory whose name matches the glob (`*` only, in the file name only).
 *   Image sequences take `fps` (default 10), `loop`, `realtime`; all images must have one format (all JPEG or all PNG).
 * - `rtsp://…`, `rtsps://…`: passed verbatim to rtspsrc (the query belongs to the camera). Options: `latencyMs`, `transport`, `codec` (Jetson).
 * - `v4l2:///dev/video0?width=1280&height=720&fps=30&format=mjpeg`: a V4L2 device; `format` is `mjpeg` or a raw GStreamer format (YUY2, NV12, …).
 * - `csi://0?width=1920&height=1080&fps=30`: a Jetson CSI sensor (nvarguscamerasrc), only with `platform: 'jetson'`.
 * - `testsrc://?pattern=ball&fps=10&width=640&height=480`: a live videotestsrc.
 * - `synthetic://?schedule=day:300,fog:300~30&seed=7&width=640&height=480&fps=10`: a live street scene from
 *   @edgefleet/scenes whose domain follows the schedule (`DOMAIN:DURATION_S[~TRANSITION_S],…`, in seconds
 *   since the camera started; default `day`), pushed through appsrc. Options: `schedule`, `seed` (default 0),
 *   `width`/`height` (default 640×480, 8..8192), `fps` (default 10, at most 240), `loop` (repeat the schedule
 *   instead of holding its last domain). A `+` in the query is kept as is (domain mixes: `night@0.5+fog`).
 * - A bare absolute path (`/abs/video.mp4`) is read as the `file://` URI of that path.
 *
 * Options come from the URI query (except for rtsp, whose query is the camera's) and from the options
 * object, which wins. An option that does not apply to the source kind is an error, so typos and
 * misplaced settings fail at start-up instead of being ignored.
 */
import { basename, dirname, extname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EdgeError } from '../errors.js';
import { scheduleProblem } from './synthetic-schedule.js';
import { redactUrl } from '@edgefleet/service-kit';

export type Platform = 'generic' | 'jetson';
/** rtspsrc lower transports: `auto` is rtspsrc's default (UDP first, then TCP). */
export type RtspTransport = 'tcp' | 'udp' | 'auto';
/** Compressed video codec. Only the Jetson pipelines use it: `h264`/`h265` pin nvv4l2decoder, `auto` lets decodebin choose. */
export type VideoCodec = 'auto' | 'h264' | 'h265';
export type ImageCodec = 'jpeg' | 'png';
/** Container of a video file, from its extension (picks the demuxer when the Jetson decoder chain is pinned). */
export type VideoContainer = 'mp4' | 'matroska' | 'avi' | 'mpegts' | 'elementary' | 'unknown';

/** Videotestsrc patterns accepted by `testsrc://` (GStreamer 1.22 nicks). */
export const TEST_PATTERNS = [
  'smpte',
  'snow',
  'black',
  'white',
  'red',
  'green',
  'blue',
  'checkers-1',
  'checkers-2',
  'checkers-4',
  'checkers-8',
  'circular',
  'blink',
  'smpte75',
  'zone-plate',
  'gamut',
  'chroma-zone-plate',
  'solid-color',
  'ball',
  'smpte100',
  'bar',
  'pinwheel',
  'spokes',
  'gradient',
  'colors',
  'smpte-rp-219',
] as const;
export type TestPattern = (typeof TEST_PATTERNS)[number];

/**
 * Per-camera source options (all optional; defaults are per kind).
 * @example { platform: 'jetson', codec: 'h265', latencyMs: 100, transport: 'tcp' }
 */
export interface SourceOptions {
  /** Selects the Jetson pipeline variants (NVMM decoders and converters). Default `generic`. */
  readonly platform?: Platform;
  /** Files and image sequences: start again at the end instead of finishing. Default false. */
  readonly loop?: boolean;
  /**
   * Files and image sequences: pace frames at their native rate (appsink sync=true) and treat the
   * source as live (latest-frame mailbox, drops counted). Default false: as fast as the consumer pulls.
   */
  readonly realtime?: boolean;
  /** Frame rate for image sequences and still images (default 10), V4L2, CSI (default 30) and testsrc (default 10). */
  readonly fps?: number;
  readonly width?: number;
  readonly height?: number;
  /** V4L2 only: `mjpeg` or a raw GStreamer video format such as `YUY2`. */
  readonly format?: string;
  /** RTSP jitter-buffer latency in ms. Default 200. */
  readonly latencyMs?: number;
  /** RTSP transport. Default `tcp` (no packet loss artefacts behind lossy links, at some latency cost). */
  readonly transport?: RtspTransport;
  /** Video files and RTSP on Jetson: pins the hardware decoder chain. Default `auto`. */
  readonly codec?: VideoCodec;
  /** testsrc only. Default `smpte`. */
  readonly pattern?: string;
  /** synthetic only: domain schedule, `DOMAIN:DURATION_S[~TRANSITION_S],…` (e.g. `day:300,fog:300~30`). Default `day`. */
  readonly schedule?: string;
  /** synthetic only: scene seed (layout, traffic, noise), an integer 0..4294967295. Default 0. */
  readonly seed?: number;
}

interface SpecBase {
  readonly platform: Platform;
  /** The URI as configured, credentials redacted (for status and logs). */
  readonly displayUri: string;
}

export interface VideoFileSpec extends SpecBase {
  readonly kind: 'file';
  readonly path: string;
  readonly container: VideoContainer;
  readonly loop: boolean;
  readonly realtime: boolean;
  readonly codec: VideoCodec;
}

export interface StillImageSpec extends SpecBase {
  readonly kind: 'image';
  readonly path: string;
  readonly codec: ImageCodec;
  readonly fps: number;
  readonly loop: boolean;
  readonly realtime: boolean;
}

export interface ImageSequenceSpec extends SpecBase {
  readonly kind: 'image-sequence';
  readonly dir: string;
  /** File-name glob (`*` wildcards), or null for every image in `dir`. */
  readonly glob: string | null;
  readonly fps: number;
  readonly loop: boolean;
  readonly realtime: boolean;
}

export interface RtspSpec extends SpecBase {
  readonly kind: 'rtsp';
  /** Verbatim, credentials included (goes into the pipeline, never into status). */
  readonly uri: string;
  readonly latencyMs: number;
  readonly transport: RtspTransport;
  readonly codec: VideoCodec;
}

export interface V4l2Spec extends SpecBase {
  readonly kind: 'v4l2';
  readonly device: string;
  readonly width: number | null;
  readonly height: number | null;
  readonly fps: number | null;
  /** `mjpeg`, a raw format such as `YUY2`, or null to let the device choose. */
  readonly format: string | null;
}

export interface CsiSpec extends SpecBase {
  readonly kind: 'csi';
  readonly platform: 'jetson';
  readonly sensorId: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

export interface TestPatternSpec extends SpecBase {
  readonly kind: 'testsrc';
  readonly pattern: TestPattern;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

export interface SyntheticSpec extends SpecBase {
  readonly kind: 'synthetic';
  /** Domain schedule text, validated (stream time is seconds since the camera started). */
  readonly schedule: string;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Repeat the schedule after its last segment instead of holding the last domain. */
  readonly loop: boolean;
}

export type SourceSpec =
  | VideoFileSpec
  | StillImageSpec
  | ImageSequenceSpec
  | RtspSpec
  | V4l2Spec
  | CsiSpec
  | TestPatternSpec
  | SyntheticSpec;

export type SourceKind = SourceSpec['kind'];

const IMAGE_EXTENSIONS: Readonly<Record<string, ImageCodec>> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png' };
const SUPPORTED = 'file://, dir://, rtsp://, rtsps://, v4l2://, csi://, testsrc://, synthetic://';

/** Options each kind accepts (besides `platform`). */
const APPLICABLE: Readonly<Record<SourceKind, readonly (keyof SourceOptions)[]>> = {
  file: ['loop', 'realtime', 'codec'],
  image: ['loop', 'realtime', 'fps'],
  'image-sequence': ['loop', 'realtime', 'fps'],
  rtsp: ['latencyMs', 'transport', 'codec'],
  v4l2: ['width', 'height', 'fps', 'format'],
  csi: ['width', 'height', 'fps'],
  testsrc: ['pattern', 'width', 'height', 'fps'],
  synthetic: ['schedule', 'seed', 'width', 'height', 'fps', 'loop'],
};

/** Query parameter names (URI spelling) → option keys. */
const QUERY_KEYS: Readonly<Record<string, keyof SourceOptions>> = {
  platform: 'platform',
  loop: 'loop',
  realtime: 'realtime',
  fps: 'fps',
  width: 'width',
  height: 'height',
  format: 'format',
  latency: 'latencyMs',
  latencyMs: 'latencyMs',
  transport: 'transport',
  codec: 'codec',
  pattern: 'pattern',
  schedule: 'schedule',
  seed: 'seed',
};

function fail(uri: string, why: string): never {
  throw new EdgeError('EDGE_ERR_SOURCE_URI', `${why} (source '${redactUrl(uri)}')`);
}

/**
 * Parse a camera source URI and options into a validated spec.
 * @throws EdgeError EDGE_ERR_SOURCE_URI with the reason (unsupported scheme, bad option, …).
 * @example parseSourceSpec('testsrc://?pattern=ball&fps=10&width=640&height=480')
 */
export function parseSourceSpec(uri: string, options: SourceOptions = {}): SourceSpec {
  if (typeof uri !== 'string' || uri.trim() === '') fail(String(uri), 'source URI is empty');
  const text = uri.trim();
  if (isAbsolute(text) && !text.includes('://')) return fromFilePath(text, text, options);

  let url: URL;
  try {
    url = new URL(text);
  } catch (err) {
    fail(text, `not a URI; supported: ${SUPPORTED} or an absolute file path (${(err as Error).message})`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  switch (scheme) {
    case 'rtsp':
    case 'rtsps':
      return fromRtsp(text, url, options);
    case 'file': {
      let path: string;
      try {
        path = fileURLToPath(url);
      } catch (err) {
        fail(text, `file URI must be absolute, file:///path (${(err as Error).message})`);
      }
      return fromFilePath(text, path, merge(text, url, options));
    }
    case 'dir': {
      const dir = decodePath(text, url, 'dir:///absolute/directory');
      const opts = merge(text, url, options);
      const common = sequenceCommon(text, opts);
      checkApplicable(text, 'image-sequence', opts);
      return { kind: 'image-sequence', dir, glob: null, ...common };
    }
    case 'v4l2': {
      const device = decodePath(text, url, 'v4l2:///dev/videoN');
      const opts = merge(text, url, options);
      checkApplicable(text, 'v4l2', opts);
      const width = optInt(text, 'width', opts.width, 1, 16384);
      const height = optInt(text, 'height', opts.height, 1, 16384);
      if ((width === undefined) !== (height === undefined)) fail(text, 'v4l2 width and height must be given together');
      const format = opts.format === undefined ? null : v4l2Format(text, opts.format);
      return {
        kind: 'v4l2',
        platform: platformOf(text, opts),
        displayUri: redactUrl(text),
        device,
        width: width ?? null,
        height: height ?? null,
        fps: opts.fps === undefined ? null : fpsOf(text, opts.fps),
        format,
      };
    }
    case 'csi': {
      const opts = merge(text, url, options);
      checkApplicable(text, 'csi', opts);
      if (platformOf(text, opts) !== 'jetson') fail(text, "csi:// sources need platform: 'jetson' (nvarguscamerasrc)");
      const id = url.hostname === '' ? '0' : url.hostname;
      if (!/^\d{1,2}$/.test(id) || (url.pathname !== '' && url.pathname !== '/'))
        fail(text, 'expected csi://<sensor-id>, e.g. csi://0');
      return {
        kind: 'csi',
        platform: 'jetson',
        displayUri: redactUrl(text),
        sensorId: Number(id),
        width: optInt(text, 'width', opts.width, 1, 16384) ?? 1920,
        height: optInt(text, 'height', opts.height, 1, 16384) ?? 1080,
        fps: opts.fps === undefined ? 30 : fpsOf(text, opts.fps),
      };
    }
    case 'testsrc': {
      if (url.hostname !== '' || (url.pathname !== '' && url.pathname !== '/'))
        fail(text, 'expected testsrc://?pattern=…&width=…');
      const opts = merge(text, url, options);
      checkApplicable(text, 'testsrc', opts);
      const pattern = opts.pattern ?? 'smpte';
      if (!(TEST_PATTERNS as readonly string[]).includes(pattern)) {
        fail(text, `unknown test pattern '${pattern}'; one of ${TEST_PATTERNS.join(', ')}`);
      }
      return {
        kind: 'testsrc',
        platform: platformOf(text, opts),
        displayUri: redactUrl(text),
        pattern: pattern as TestPattern,
        width: optInt(text, 'width', opts.width, 1, 16384) ?? 640,
        height: optInt(text, 'height', opts.height, 1, 16384) ?? 480,
        fps: opts.fps === undefined ? 10 : fpsOf(text, opts.fps),
      };
    }
    case 'synthetic':
      return fromSynthetic(text, url, options);
    default:
      return fail(text, `unsupported scheme '${scheme}://'; supported: ${SUPPORTED}`);
  }
}

/** Largest frame the scene renderer accepts (and smallest: its objects need a few pixels). */
const SYNTHETIC_MIN_SIDE = 8;
const SYNTHETIC_MAX_SIDE = 8192;
const SYNTHETIC_MAX_FPS = 240;

function fromSynthetic(uri: string, url: URL, options: SourceOptions): SyntheticSpec {
  if (url.hostname !== '' || (url.pathname !== '' && url.pathname !== '/'))
    fail(uri, 'expected synthetic://?schedule=…&seed=…');
  // URLSearchParams reads `+` as a space, but `+` joins a domain mix (`night@0.5+fog`): keep it literal.
  const query = new URL(url.href);
  query.search = url.search.replace(/\+/g, '%2B');
  const opts = merge(uri, query, options);
  checkApplicable(uri, 'synthetic', opts);
  const schedule = opts.schedule ?? 'day:60';
  if (typeof schedule !== 'string') fail(uri, `schedule must be a string, got ${JSON.stringify(schedule)}`);
  const problem = scheduleProblem(schedule);
  if (problem !== null) fail(uri, `bad schedule '${schedule}': ${problem}`);
  const fps = opts.fps === undefined ? 10 : fpsOf(uri, opts.fps);
  if (fps > SYNTHETIC_MAX_FPS) fail(uri, `fps of a synthetic source must be at most ${SYNTHETIC_MAX_FPS}, got ${fps}`);
  return {
    kind: 'synthetic',
    platform: platformOf(uri, opts),
    displayUri: redactUrl(uri),
    schedule: schedule.trim(),
    seed: optInt(uri, 'seed', opts.seed, 0, 0xffff_ffff) ?? 0,
    width: optInt(uri, 'width', opts.width, SYNTHETIC_MIN_SIDE, SYNTHETIC_MAX_SIDE) ?? 640,
    height: optInt(uri, 'height', opts.height, SYNTHETIC_MIN_SIDE, SYNTHETIC_MAX_SIDE) ?? 480,
    fps,
    loop: boolOf(uri, 'loop', opts.loop),
  };
}

function fromFilePath(uri: string, path: string, opts: SourceOptions): SourceSpec {
  const name = basename(path);
  const dir = dirname(path);
  if (dir.includes('*')) fail(uri, 'a glob may only use * in the file name, not in directories');
  if (name.includes('*')) {
    checkApplicable(uri, 'image-sequence', opts);
    return { kind: 'image-sequence', dir, glob: name, ...sequenceCommon(uri, opts) };
  }
  const imageCodec = IMAGE_EXTENSIONS[extname(name).toLowerCase()];
  if (imageCodec !== undefined) {
    checkApplicable(uri, 'image', opts);
    return { kind: 'image', path, codec: imageCodec, ...sequenceCommon(uri, opts) };
  }
  checkApplicable(uri, 'file', opts);
  const platform = platformOf(uri, opts);
  const codec = codecOf(uri, opts.codec);
  const container = containerOf(path);
  if (platform === 'jetson' && codec !== 'auto' && container === 'unknown') {
    fail(
      uri,
      `cannot pick a demuxer for '${extname(path)}' files; use codec 'auto' (decodebin) or one of .mp4 .mov .mkv .webm .avi .ts .h264 .h265`,
    );
  }
  return {
    kind: 'file',
    platform,
    displayUri: redactUrl(uri),
    path,
    container,
    loop: boolOf(uri, 'loop', opts.loop),
    realtime: boolOf(uri, 'realtime', opts.realtime),
    codec,
  };
}

const CONTAINERS: Readonly<Record<string, VideoContainer>> = {
  '.mp4': 'mp4',
  '.m4v': 'mp4',
  '.mov': 'mp4',
  '.mkv': 'matroska',
  '.webm': 'matroska',
  '.avi': 'avi',
  '.ts': 'mpegts',
  '.mts': 'mpegts',
  '.m2ts': 'mpegts',
  '.h264': 'elementary',
  '.264': 'elementary',
  '.h265': 'elementary',
  '.265': 'elementary',
  '.hevc': 'elementary',
};

function containerOf(path: string): VideoContainer {
  return CONTAINERS[extname(path).toLowerCase()] ?? 'unknown';
}

function fromRtsp(uri: string, url: URL, opts: SourceOptions): RtspSpec {
  if (url.hostname === '') fail(uri, 'RTSP URI has no host');
  checkApplicable(uri, 'rtsp', opts);
  const transport = opts.transport ?? 'tcp';
  if (!['tcp', 'udp', 'auto'].includes(transport))
    fail(uri, `transport must be tcp, udp or auto, got '${String(transport)}'`);
  return {
    kind: 'rtsp',
    platform: platformOf(uri, opts),
    displayUri: redactUrl(uri),
    uri,
    latencyMs: optInt(uri, 'latencyMs', opts.latencyMs, 0, 60_000) ?? 200,
    transport,
    codec: codecOf(uri, opts.codec),
  };
}

function sequenceCommon(uri: string, opts: SourceOptions) {
  return {
    platform: platformOf(uri, opts),
    displayUri: redactUrl(uri),
    fps: opts.fps === undefined ? 10 : fpsOf(uri, opts.fps),
    loop: boolOf(uri, 'loop', opts.loop),
    realtime: boolOf(uri, 'realtime', opts.realtime),
  };
}

function decodePath(uri: string, url: URL, shape: string): string {
  if (url.hostname !== '') fail(uri, `expected ${shape} (three slashes: the host part must be empty)`);
  const path = decodeURIComponent(url.pathname);
  if (!isAbsolute(path) || path === '/') fail(uri, `expected ${shape}`);
  return path;
}

/** Query parameters become options (typed by key); the explicit options object overrides them. */
function merge(uri: string, url: URL, options: SourceOptions): SourceOptions {
  const fromQuery: Record<string, unknown> = {};
  for (const [key, value] of url.searchParams) {
    const option = QUERY_KEYS[key];
    if (option === undefined) fail(uri, `unknown URI parameter '${key}'; known: ${Object.keys(QUERY_KEYS).join(', ')}`);
    fromQuery[option] = queryValue(uri, option, value);
  }
  const merged: Record<string, unknown> = { ...fromQuery };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value;
  return merged as SourceOptions;
}

function queryValue(uri: string, option: keyof SourceOptions, value: string): unknown {
  switch (option) {
    case 'loop':
    case 'realtime':
      if (value === 'true' || value === '1' || value === '') return true;
      if (value === 'false' || value === '0') return false;
      return fail(uri, `parameter ${option} must be true or false, got '${value}'`);
    case 'fps':
    case 'width':
    case 'height':
    case 'latencyMs':
    case 'seed': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) fail(uri, `parameter ${option} must be a number, got '${value}'`);
      return n;
    }
    default:
      return value;
  }
}

function checkApplicable(uri: string, kind: SourceKind, opts: SourceOptions): void {
  const allowed = APPLICABLE[kind];
  for (const [key, value] of Object.entries(opts)) {
    if (value === undefined || key === 'platform') continue;
    if (!(allowed as readonly string[]).includes(key)) {
      fail(uri, `option '${key}' does not apply to ${kind} sources (they take: ${allowed.join(', ') || 'none'})`);
    }
  }
}

function platformOf(uri: string, opts: SourceOptions): Platform {
  const p = opts.platform ?? 'generic';
  if (p !== 'generic' && p !== 'jetson') fail(uri, `platform must be 'generic' or 'jetson', got '${String(p)}'`);
  return p;
}

function codecOf(uri: string, codec: VideoCodec | undefined): VideoCodec {
  const c = codec ?? 'auto';
  if (c !== 'auto' && c !== 'h264' && c !== 'h265') fail(uri, `codec must be auto, h264 or h265, got '${String(c)}'`);
  return c;
}

function boolOf(uri: string, name: string, value: boolean | undefined): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') fail(uri, `${name} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

function optInt(uri: string, name: string, value: number | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(uri, `${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function fpsOf(uri: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1000) {
    fail(uri, `fps must be a number in (0, 1000], got ${JSON.stringify(value)}`);
  }
  return value;
}

function v4l2Format(uri: string, format: string): string {
  if (typeof format !== 'string') fail(uri, 'format must be a string');
  if (format.toLowerCase() === 'mjpeg' || format.toLowerCase() === 'mjpg') return 'mjpeg';
  // GStreamer raw video format names: upper-case letters, digits and underscores (YUY2, NV12, GRAY8, …).
  if (!/^[A-Z0-9_]{2,16}$/.test(format))
    fail(uri, `format must be 'mjpeg' or a GStreamer raw format such as YUY2, got '${format}'`);
  return format;
}

/** Whether the source produces frames on its own clock (latest-frame mailbox) or on demand (backpressure). */
export function isLiveSpec(spec: SourceSpec): boolean {
  switch (spec.kind) {
    case 'rtsp':
    case 'v4l2':
    case 'csi':
    case 'testsrc':
    case 'synthetic':
      return true;
    case 'file':
    case 'image':
    case 'image-sequence':
      return spec.realtime;
  }
}
