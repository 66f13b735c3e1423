/**
 * Labelling rule for occlusion and frame edges.
 *
 * An object of a labelled class gets a box iff
 *   visible pixels ≥ `minVisibleFraction` × all pixels of its silhouette, and
 *   the visible box is at least `minBoxPx` wide AND `minBoxPx` high,
 * where the silhouette is rasterised unclipped (pixels outside the frame count as not visible)
 * and a pixel is visible when the object is the topmost thing drawn there (other objects and
 * distractors occlude; weather, glare and noise do not). The box is the bounds of the visible
 * pixels, in pixel edges: `[minX, minY, maxX + 1, maxY + 1]`, so it never leaves the frame.
 */

export interface LabelRule {
  readonly minVisibleFraction: number;
  readonly minBoxPx: number;
}

export const DEFAULT_LABEL_RULE: LabelRule = Object.freeze({ minVisibleFraction: 0.4, minBoxPx: 4 });

export function isLabelled(
  rule: LabelRule,
  visiblePixels: number,
  totalPixels: number,
  boxW: number,
  boxH: number,
): boolean {
  if (totalPixels <= 0 || visiblePixels <= 0) return false;
  return visiblePixels / totalPixels >= rule.minVisibleFraction && boxW >= rule.minBoxPx && boxH >= rule.minBoxPx;
}
