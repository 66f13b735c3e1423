/** Working planes of one render: float colour, object ids, fog distance and emissive flags. */

export interface FrameBuffers {
  readonly width: number;
  readonly height: number;
  /** Linear-ish 0..255 RGB, interleaved, before quantisation. */
  readonly rgb: Float32Array;
  /** 0 = background, otherwise 1 + index of the drawable that owns the pixel. */
  readonly ids: Uint16Array;
  /** Fog distance quantised as round(distance * 8), 255 = sky. */
  readonly distance: Uint8Array;
  /** 1 where the pixel emits light (lamps, headlights, lit windows): night does not darken it. */
  readonly emissive: Uint8Array;
}

export const SKY_DISTANCE = 255;

export function quantiseDistance(d: number): number {
  return Math.min(254, Math.round(d * 8));
}

export function createFrameBuffers(width: number, height: number): FrameBuffers {
  const n = width * height;
  return {
    width,
    height,
    rgb: new Float32Array(n * 3),
    ids: new Uint16Array(n),
    distance: new Uint8Array(n),
    emissive: new Uint8Array(n),
  };
}
