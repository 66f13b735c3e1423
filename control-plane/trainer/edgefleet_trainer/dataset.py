"""YOLO-format dataset: scanning and validation of a split, and the torch Dataset over it.

Layout (Ultralytics): images/<split>/*.png|jpg and labels/<split>/*.txt, one
`cls cx cy w h` line per object, coordinates normalised to [0, 1]. The label path
replaces the last `images` directory of the image path with `labels`. As in
Ultralytics, an image without a label file is a background image (no objects);
a split whose labels directory is missing is an error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import augment as A
from .data_yaml import DataConfig
from .errors import TrainerError

IMG_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
COORD_TOL = 1e-3  # rounding slack for normalised coordinates written with few decimals


@dataclass
class SplitIndex:
    split: str
    images: list[Path]
    labels: list[np.ndarray]  # per image [n, 5]: cls, cx, cy, w, h (normalised)
    background: int = 0  # images without objects
    missing_label_files: int = 0
    instances: list[int] = field(default_factory=list)  # per class

    def __len__(self) -> int:
        return len(self.images)


def label_path_for(img: Path) -> Path:
    parts = list(img.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            return Path(*parts).with_suffix(".txt")
    return img.with_suffix(".txt")  # no images/ directory: labels sit next to the images


def parse_label_file(path: Path, nc: int) -> np.ndarray:
    rows = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise TrainerError("TRAINER_ERR_LABEL_FORMAT", f"{path}: cannot read label file: {e}", file=str(path)) from e
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        where = f"{path}:{lineno}"
        parts = s.split()
        if len(parts) != 5:
            raise TrainerError(
                "TRAINER_ERR_LABEL_FORMAT",
                f"{where}: expected 5 values 'cls cx cy w h', got {len(parts)}: {s[:80]!r}",
                file=str(path), line=lineno,
            )
        try:
            vals = [float(x) for x in parts]
        except ValueError:
            raise TrainerError(
                "TRAINER_ERR_LABEL_FORMAT", f"{where}: values must be numbers: {s[:80]!r}", file=str(path), line=lineno
            ) from None
        if not all(math.isfinite(v) for v in vals):
            raise TrainerError("TRAINER_ERR_LABEL_FORMAT", f"{where}: values must be finite: {s[:80]!r}", file=str(path), line=lineno)
        c, cx, cy, w, h = vals
        if c != int(c):
            raise TrainerError("TRAINER_ERR_LABEL_FORMAT", f"{where}: class id must be an integer, got {parts[0]}", file=str(path), line=lineno)
        if not 0 <= c < nc:
            raise TrainerError(
                "TRAINER_ERR_LABEL_CLASS",
                f"{where}: class id {int(c)} out of range [0, {nc}) (nc={nc} from data.yaml)",
                file=str(path), line=lineno, class_id=int(c), nc=nc,
            )
        if not all(-COORD_TOL <= v <= 1 + COORD_TOL for v in (cx, cy, w, h)) or w <= 0 or h <= 0:
            raise TrainerError(
                "TRAINER_ERR_LABEL_FORMAT",
                f"{where}: coordinates must be normalised to [0, 1] with w, h > 0: {s[:80]!r}",
                file=str(path), line=lineno,
            )
        rows.append((c, min(max(cx, 0.0), 1.0), min(max(cy, 0.0), 1.0), min(w, 1.0), min(h, 1.0)))
    return np.array(rows, dtype=np.float32).reshape(-1, 5)


def _list_images(cfg: DataConfig, split: str, entry: Path) -> list[Path]:
    if entry.is_dir():
        imgs = sorted(p for p in entry.rglob("*") if p.suffix.lower() in IMG_EXTS and p.is_file())
        if imgs:
            labels_dir = label_path_for(imgs[0]).parent
        else:
            labels_dir = label_path_for(entry / "x.png").parent
        if not labels_dir.is_dir():
            raise TrainerError(
                "TRAINER_ERR_LABELS_DIR",
                f"split '{split}': labels directory {labels_dir} does not exist (images in {entry})",
                split=split, path=str(labels_dir),
            )
        return imgs
    if entry.is_file() and entry.suffix == ".txt":
        out = []
        for line in entry.read_text(encoding="utf-8").splitlines():
            s = line.strip()
            if s:
                p = Path(s)
                out.append(p if p.is_absolute() else (entry.parent / p).resolve())
        for d in sorted({label_path_for(p).parent for p in out}):
            if not d.is_dir():
                raise TrainerError(
                    "TRAINER_ERR_LABELS_DIR", f"split '{split}': labels directory {d} does not exist", split=split, path=str(d)
                )
        return out
    raise TrainerError(
        "TRAINER_ERR_SPLIT_MISSING", f"split '{split}': {entry} does not exist (from {cfg.yaml_path})", split=split, path=str(entry)
    )


def scan_split(cfg: DataConfig, split: str) -> SplitIndex:
    """List and validate every image and label of a split; fail on the first problem."""
    images: list[Path] = []
    for entry in cfg.splits[split]:
        images.extend(_list_images(cfg, split, entry))
    if not images:
        raise TrainerError(
            "TRAINER_ERR_EMPTY_SPLIT",
            f"split '{split}' has no images ({', '.join(str(e) for e in cfg.splits[split])}; extensions {sorted(IMG_EXTS)})",
            split=split,
        )
    idx = SplitIndex(split=split, images=images, labels=[], instances=[0] * cfg.nc)
    for img in images:
        try:
            with Image.open(img) as im:
                im.verify() if im.format == "PNG" else im.size
        except Exception as e:  # PIL raises many types for broken files
            raise TrainerError("TRAINER_ERR_IMAGE", f"{img}: cannot read image: {e}", file=str(img)) from e
        lp = label_path_for(img)
        if lp.is_file():
            lab = parse_label_file(lp, cfg.nc)
        else:
            idx.missing_label_files += 1
            lab = np.zeros((0, 5), np.float32)
        if len(lab) == 0:
            idx.background += 1
        for c in lab[:, 0].astype(int):
            idx.instances[c] += 1
        idx.labels.append(lab)
    return idx


def load_rgb(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except Exception as e:  # decode errors surface here for formats verify() cannot check
        raise TrainerError("TRAINER_ERR_IMAGE", f"{path}: cannot decode image: {e}", file=str(path)) from e


class YoloDataset(torch.utils.data.Dataset):
    """Samples: (uint8 [3, S, S] tensor, float [n, 5] cls x1 y1 x2 y2 in canvas pixels, path)."""

    def __init__(self, index: SplitIndex, imgsz: int, augment: bool, aug: A.AugmentConfig, seed: int = 0, cache: bool = False):
        self.index = index
        self.imgsz = imgsz
        self.augment = augment
        self.aug = aug
        self.seed = seed
        self.epoch = 0
        self.mosaic_enabled = aug.mosaic > 0
        self._cache: dict[int, np.ndarray] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.index)

    def fill_cache(self) -> None:
        """Decode every image once up front (forked loader workers then share the pages)."""
        if self._cache is not None:
            for i in range(len(self)):
                self._load(i)

    def set_epoch(self, epoch: int, mosaic: bool = True) -> None:
        self.epoch = epoch
        self.mosaic_enabled = mosaic and self.aug.mosaic > 0

    def _load(self, i: int):
        """Image resized to long side imgsz, with its boxes in pixels (xyxy) and classes."""
        img = self._cache.get(i) if self._cache is not None else None
        if img is None:
            img = A.resize_long_side(load_rgb(self.index.images[i]), self.imgsz)
            if self._cache is not None:
                self._cache[i] = img
        h, w = img.shape[:2]
        lab = self.index.labels[i]
        cls = lab[:, 0].copy()
        xywh = lab[:, 1:] * np.array([w, h, w, h], dtype=np.float32)
        boxes = np.concatenate((xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2), 1).astype(np.float32)
        return img, boxes, cls

    def __getitem__(self, i: int):
        if self.augment:
            # One generator per (seed, epoch, sample): identical results whatever the worker count.
            rng = np.random.default_rng([self.seed, self.epoch, i])
            if self.mosaic_enabled and rng.random() < self.aug.mosaic:
                others = rng.integers(0, len(self), 3)
                img, boxes, cls = A.mosaic4((self._load(int(j)) for j in (i, *others)), self.imgsz, rng)
            else:
                img, boxes, cls = self._load(i)
            img, boxes, cls = A.random_place(img, boxes, cls, self.imgsz, self.aug, rng)
            img = A.hsv_jitter(img, self.aug, rng)
            if rng.random() < self.aug.fliplr:
                img, boxes = A.flip_lr(img, boxes)
        else:
            img, boxes, cls = self._load(i)
            h, w = img.shape[:2]
            img, r, (left, top) = A.letterbox(img, self.imgsz)
            if len(boxes):
                boxes = boxes * r + np.array([left, top, left, top], dtype=np.float32)
        target = np.concatenate((cls.reshape(-1, 1), boxes.reshape(-1, 4)), 1).astype(np.float32)
        chw = np.ascontiguousarray(np.asarray(img).transpose(2, 0, 1))
        return torch.from_numpy(chw), torch.from_numpy(target), str(self.index.images[i])


def collate(batch):
    """Stack images; targets become one [K, 6] tensor: batch index, cls, x1, y1, x2, y2."""
    imgs, targets, paths = zip(*batch)
    rows = [torch.cat((torch.full((len(t), 1), float(k)), t), 1) for k, t in enumerate(targets)]
    return torch.stack(imgs), torch.cat(rows) if rows else torch.zeros((0, 6)), list(paths)
