/**
 * Native size of a JPEG or PNG file read from its header alone, so capture can ask GStreamer for the
 * letterbox size before decoding. JPEG: the first SOFn segment (ITU T.81 B.2.2: P, Y, X after the
 * length); PNG: the IHDR chunk that must come first (PNG spec 11.2.2).
 */
import { type FileHandle, open } from 'node:fs/promises';
import { EdgeError } from '../errors.js';
import type { ImageCodec } from './source-spec.js';

export interface ImageHeader {
  readonly codec: ImageCodec;
  readonly width: number;
  readonly height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Enough for the usual EXIF/ICC segments in front of the SOF; bigger headers fall back to the whole file. */
const FIRST_READ = 64 * 1024;
/** Refuse to scan absurdly large files for a header. */
const MAX_SCAN = 64 * 1024 * 1024;

/** SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range but are not frames. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Markers without a length field: TEM, RSTn, SOI, EOI. */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}

type ParseResult = ImageHeader | { readonly error: string } | 'need-more';

function parseJpeg(b: Uint8Array): ParseResult {
  let i = 2;
  for (;;) {
    if (i + 1 >= b.length) return 'need-more';
    if (b[i] !== 0xff) return { error: `JPEG marker expected at offset ${i}, found 0x${b[i]!.toString(16)}` };
    let marker = b[i + 1]!;
    // Any number of 0xFF fill bytes may precede a marker (T.81 B.1.1.2).
    while (marker === 0xff) {
      i++;
      if (i + 1 >= b.length) return 'need-more';
      marker = b[i + 1]!;
    }
    if (isStandalone(marker)) {
      if (marker === 0xd9) return { error: 'JPEG ends before any frame header (SOF)' };
      i += 2;
      continue;
    }
    if (marker === 0xda) return { error: 'JPEG scan data starts before any frame header (SOF)' };
    if (i + 3 >= b.length) return 'need-more';
    const length = (b[i + 2]! << 8) | b[i + 3]!;
    if (length < 2)
      return { error: `JPEG segment 0xFF${marker.toString(16).toUpperCase()} has invalid length ${length}` };
    if (isStartOfFrame(marker)) {
      if (i + 8 >= b.length) return 'need-more';
      if (length < 8) return { error: `JPEG frame header too short (${length} bytes)` };
      const height = (b[i + 5]! << 8) | b[i + 6]!;
      const width = (b[i + 7]! << 8) | b[i + 8]!;
      // Height 0 means "defined later by a DNL marker", which decoders (and we) do not support.
      if (width === 0 || height === 0) return { error: `JPEG frame header gives size ${width}x${height}` };
      return { codec: 'jpeg', width, height };
    }
    i += 2 + length;
  }
}

function parsePng(b: Uint8Array): ParseResult {
  if (b.length < 16) return 'need-more';
  const type = String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!);
  if (type !== 'IHDR') return { error: `PNG's first chunk is '${type}', expected IHDR` };
  if (b.length < 24) return 'need-more';
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    return { error: `PNG IHDR gives invalid size ${width}x${height}` };
  }
  return { codec: 'png', width, height };
}

/**
 * Parses the header at the start of `bytes` (which may be a prefix of the file).
 * Returns 'need-more' when the prefix ends before the size is known.
 */
export function parseImageHeader(bytes: Uint8Array): ParseResult {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return parseJpeg(bytes);
  if (bytes.length >= 8 && PNG_SIGNATURE.every((v, i) => bytes[i] === v)) return parsePng(bytes);
  if (bytes.length < 8) return 'need-more';
  return { error: 'not a JPEG or PNG file' };
}

/** Reads the codec and native size of an image file. Throws EDGE_ERR_IMAGE_DECODE with the reason. */
export async function readImageHeader(path: string): Promise<ImageHeader> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new EdgeError('EDGE_ERR_IMAGE_DECODE', `${path}: ${reason}`, { cause: err });
  }
  try {
    const size = (await handle.stat()).size;
    let length = Math.min(size, FIRST_READ);
    for (;;) {
      const buf = new Uint8Array(length);
      const { bytesRead } = await handle.read(buf, 0, length, 0);
      const result = parseImageHeader(buf.subarray(0, bytesRead));
      if (result === 'need-more') {
        if (bytesRead < size && length < Math.min(size, MAX_SCAN)) {
          length = Math.min(size, MAX_SCAN);
          continue;
        }
        throw new EdgeError('EDGE_ERR_IMAGE_DECODE', `${path}: file ends inside the image header (${size} bytes)`);
      }
      if ('error' in result) throw new EdgeError('EDGE_ERR_IMAGE_DECODE', `${path}: ${result.error}`);
      return result;
    }
  } catch (err) {
    if (err instanceof EdgeError) throw err;
    throw new EdgeError('EDGE_ERR_IMAGE_DECODE', `${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    await handle.close();
  }
}
