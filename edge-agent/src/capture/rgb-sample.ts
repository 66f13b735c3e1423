/**
 * Turns an appsink sample (a fresh Buffer copied by the binding, plus its caps) into an RgbFrame.
 *
 * GStreamer pads each row of packed 24-bit video to a multiple of 4 bytes (GST_ROUND_UP_4), so a
 * 773-pixel-wide RGB frame has 2320-byte rows, not 2319: such buffers are repacked to the tight
 * `width * 3` stride RgbFrame promises.
 */
import type { PixelFormat, RgbFrame } from '@edgefleet/vision';
import { EdgeError } from '../errors.js';
import type { GstSampleCaps } from './gst-binding.js';
import type { Size } from './pipeline-description.js';

export function sampleSize(caps: GstSampleCaps): Size {
  const { width, height } = caps;
  if (typeof width !== 'number' || typeof height !== 'number' || width < 1 || height < 1) {
    throw new EdgeError('EDGE_ERR_PIPELINE', `appsink sample has no video size in its caps (${JSON.stringify(caps)})`);
  }
  return { width, height };
}

export function sampleToRgbFrame(buf: Buffer, caps: GstSampleCaps, format: PixelFormat, source: Size): RgbFrame {
  const { width, height } = sampleSize(caps);
  if (caps.format !== format) {
    throw new EdgeError('EDGE_ERR_PIPELINE', `appsink delivered format ${String(caps.format)}, expected ${format}`);
  }
  const row = width * 3;
  const stride = (row + 3) & ~3;
  let data: Uint8Array;
  if (buf.length === row * height) {
    // A plain Uint8Array view: Buffer#slice semantics (views, not copies) should not leak to consumers.
    data = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  } else if (buf.length === stride * height) {
    data = new Uint8Array(row * height);
    for (let y = 0; y < height; y++) data.set(buf.subarray(y * stride, y * stride + row), y * row);
  } else {
    throw new EdgeError(
      'EDGE_ERR_PIPELINE',
      `appsink buffer of ${buf.length} bytes does not match ${width}x${height} ${format} (expected ${row * height} or ${stride * height})`,
    );
  }
  return { data, width, height, format, sourceWidth: source.width, sourceHeight: source.height };
}
