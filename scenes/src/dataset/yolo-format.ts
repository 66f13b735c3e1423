/** YOLO label lines and the data.yaml the generator writes (Ultralytics layout). */

import type { PixelBox } from '../render/render-scene.js';

/** `class cx cy w h`, normalised to the image size, 6 decimals. */
export function yoloLine(classId: number, box: PixelBox, width: number, height: number): string {
  const [x1, y1, x2, y2] = box;
  const cx = (x1 + x2) / 2 / width;
  const cy = (y1 + y2) / 2 / height;
  const w = (x2 - x1) / width;
  const h = (y2 - y1) / height;
  return `${classId} ${cx.toFixed(6)} ${cy.toFixed(6)} ${w.toFixed(6)} ${h.toFixed(6)}`;
}

export interface DataYaml {
  readonly comment: string;
  /** Absolute dataset root (Ultralytics resolves relative roots against its own datasets dir). */
  readonly path: string;
  readonly splits: Partial<Record<'train' | 'val' | 'test', string>>;
  readonly names: readonly string[];
}

export function formatDataYaml(y: DataYaml): string {
  const lines = [`# ${y.comment}`, `path: ${JSON.stringify(y.path)}`];
  for (const split of ['train', 'val', 'test'] as const) {
    const p = y.splits[split];
    if (p !== undefined) lines.push(`${split}: ${p}`);
  }
  lines.push(`nc: ${y.names.length}`, 'names:');
  y.names.forEach((n, i) => {
    lines.push(`  ${i}: ${n}`);
  });
  return `${lines.join('\n')}\n`;
}
