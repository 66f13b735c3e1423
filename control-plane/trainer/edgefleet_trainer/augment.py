"""Image geometry and light augmentation on uint8 HxWx3 RGB arrays with pixel xyxy boxes.

Letterbox matches Ultralytics (and the edge): keep aspect ratio, centre, pad 114.
Training uses a random scale/translate placement on an imgsz canvas (optionally
after a 2x2 mosaic), HSV jitter and horizontal flips.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .limits import Interval
from .option_flags import option

PAD = 114


@dataclass(frozen=True)
class AugmentConfig:
    """Training augmentation; each field is also a `train` flag (see option_flags)."""

    hsv_h: float = option(0.015)  # hue shift, fraction of the hue circle
    hsv_s: float = option(0.7)  # saturation gain range
    hsv_v: float = option(0.4)  # value gain range
    fliplr: float = option(0.5, limit=Interval(0, 1))
    scale: float = option(0.5, limit=Interval(0, 1, high_open=True), help="random zoom range: 1 +/- scale")
    translate: float = option(0.1)  # centre shift, fraction of imgsz
    mosaic: float = option(0.0, limit=Interval(0, 1), help="probability of a 2x2 mosaic per sample")


def resize_long_side(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    r = size / max(h, w)
    if r == 1:
        return img
    nw, nh = max(1, round(w * r)), max(1, round(h * r))
    return np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))


def letterbox(img: np.ndarray, size: int):
    """Resize to fit size x size keeping aspect ratio, pad centred with 114.

    Returns the canvas, the scale ratio and the (left, top) padding.
    """
    h, w = img.shape[:2]
    r = min(size / h, size / w)
    nw, nh = round(w * r), round(h * r)
    if (nw, nh) != (w, h):
        img = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
    dw, dh = (size - nw) / 2, (size - nh) / 2
    # Same rounding as Ultralytics: an odd padding puts the extra pixel right/bottom.
    left, top = round(dw - 0.1), round(dh - 0.1)
    canvas = np.full((size, size, 3), PAD, dtype=np.uint8)
    canvas[top : top + nh, left : left + nw] = img
    return canvas, r, (left, top)


def _paste(canvas: np.ndarray, img: np.ndarray, ox: int, oy: int) -> None:
    """Paste img with its top-left at (ox, oy), cropping whatever falls outside the canvas."""
    H, W = canvas.shape[:2]
    h, w = img.shape[:2]
    x0, y0 = max(ox, 0), max(oy, 0)
    x1, y1 = min(ox + w, W), min(oy + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    canvas[y0:y1, x0:x1] = img[y0 - oy : y1 - oy, x0 - ox : x1 - ox]


def box_candidates(before: np.ndarray, after: np.ndarray, min_wh: float = 2.0, area_thr: float = 0.1) -> np.ndarray:
    """Keep boxes that stay visible enough after cropping (Ultralytics' rule of thumb)."""
    w1, h1 = before[:, 2] - before[:, 0], before[:, 3] - before[:, 1]
    w2, h2 = after[:, 2] - after[:, 0], after[:, 3] - after[:, 1]
    ar = np.maximum(w2 / (h2 + 1e-16), h2 / (w2 + 1e-16))
    return (w2 > min_wh) & (h2 > min_wh) & (w2 * h2 / (w1 * h1 + 1e-16) > area_thr) & (ar < 100)


def random_place(img: np.ndarray, boxes: np.ndarray, cls: np.ndarray, size: int, cfg: AugmentConfig, rng):
    """Random zoom and shift of img onto a size x size canvas (an affine map without rotation/shear).

    img is expected at training scale (long side = size, or a 2*size mosaic, which
    this then centre-crops), so the zoom is relative to that.
    """
    h, w = img.shape[:2]
    g = rng.uniform(1 - cfg.scale, 1 + cfg.scale)
    nw, nh = max(1, round(w * g)), max(1, round(h * g))
    resized = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
    cx = size / 2 + rng.uniform(-cfg.translate, cfg.translate) * size
    cy = size / 2 + rng.uniform(-cfg.translate, cfg.translate) * size
    ox, oy = round(cx - nw / 2), round(cy - nh / 2)
    canvas = np.full((size, size, 3), PAD, dtype=np.uint8)
    _paste(canvas, resized, ox, oy)
    if len(boxes):
        scaled = boxes * np.array([nw / w, nh / h, nw / w, nh / h], dtype=np.float32) + np.array([ox, oy, ox, oy], dtype=np.float32)
        clipped = scaled.clip(0, size)
        keep = box_candidates(scaled, clipped)
        boxes, cls = clipped[keep], cls[keep]
    return canvas, boxes, cls


def mosaic4(loads, size: int, rng):
    """2x2 mosaic on a 2*size canvas around a random centre; `loads` yields (img, boxes, cls) x4."""
    s2 = 2 * size
    canvas = np.full((s2, s2, 3), PAD, dtype=np.uint8)
    xc, yc = (int(rng.uniform(size * 0.5, size * 1.5)) for _ in range(2))
    all_boxes, all_cls = [], []
    for k, (img, boxes, cls) in enumerate(loads):
        h, w = img.shape[:2]
        ox = xc - w if k in (0, 2) else xc
        oy = yc - h if k in (0, 1) else yc
        _paste(canvas, img, ox, oy)
        if len(boxes):
            all_boxes.append(boxes + np.array([ox, oy, ox, oy], dtype=np.float32))
            all_cls.append(cls)
    if all_boxes:
        b = np.concatenate(all_boxes)
        clipped = b.clip(0, s2)
        keep = box_candidates(b, clipped)
        return canvas, clipped[keep], np.concatenate(all_cls)[keep]
    return canvas, np.zeros((0, 4), np.float32), np.zeros((0,), np.float32)


def hsv_jitter(img: np.ndarray, cfg: AugmentConfig, rng) -> np.ndarray:
    if not (cfg.hsv_h or cfg.hsv_s or cfg.hsv_v):
        return img
    dh = rng.uniform(-cfg.hsv_h, cfg.hsv_h)
    gs = 1 + rng.uniform(-cfg.hsv_s, cfg.hsv_s)
    gv = 1 + rng.uniform(-cfg.hsv_v, cfg.hsv_v)
    x = np.arange(256, dtype=np.float32)
    lut_h = ((x + dh * 256) % 256).astype(np.uint8)
    lut_s = np.clip(x * gs, 0, 255).astype(np.uint8)
    lut_v = np.clip(x * gv, 0, 255).astype(np.uint8)
    hsv = np.asarray(Image.fromarray(img).convert("HSV")).copy()
    hsv[..., 0] = lut_h[hsv[..., 0]]
    hsv[..., 1] = lut_s[hsv[..., 1]]
    hsv[..., 2] = lut_v[hsv[..., 2]]
    return np.asarray(Image.fromarray(hsv, "HSV").convert("RGB"))


def flip_lr(img: np.ndarray, boxes: np.ndarray):
    w = img.shape[1]
    img = img[:, ::-1]
    if len(boxes):
        boxes = boxes.copy()
        boxes[:, [0, 2]] = w - boxes[:, [2, 0]]
    return img, boxes
