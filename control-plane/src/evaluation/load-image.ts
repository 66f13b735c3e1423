/**
 * Image files for evaluation, decoded to packed RGB. PNG only for now (8-bit, non-interlaced,
 * via @edgefleet/scenes' decoder); other formats fail with CP_ERR_IMAGE_FORMAT naming the format.
 */

import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { decodePng, isPng, type DecodedImage } from '@edgefleet/scenes';
import { CpError } from '../errors.js';

function sniff(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'JPEG';
  if (bytes[0] === 0x42 && bytes[1] === 0x4d) return 'BMP';
  if (bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x46) return 'WebP';
  if ((bytes[0] === 0x49 && bytes[1] === 0x49) || (bytes[0] === 0x4d && bytes[1] === 0x4d)) return 'TIFF';
  return null;
}

/** Throws CP_ERR_IMAGE_FORMAT unless the path names a PNG (checked before any model work). */
export function checkImageFormat(path: string): void {
  const ext = extname(path).toLowerCase();
  if (ext !== '.png') {
    throw new CpError(
      'CP_ERR_IMAGE_FORMAT',
      `${path}: ${ext || 'no extension'} images are not supported yet (only PNG; convert the dataset to PNG)`,
    );
  }
}

export function loadImage(path: string): DecodedImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CpError('CP_ERR_IMAGE_DECODE', `${path} cannot be read`, { cause: err });
  }
  if (!isPng(bytes)) {
    const kind = sniff(bytes);
    if (kind) throw new CpError('CP_ERR_IMAGE_FORMAT', `${path} is ${kind}; only PNG images are supported for now`);
    throw new CpError('CP_ERR_IMAGE_DECODE', `${path} is not a PNG file`);
  }
  try {
    return decodePng(bytes);
  } catch (err) {
    throw new CpError('CP_ERR_IMAGE_DECODE', `${path}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}
