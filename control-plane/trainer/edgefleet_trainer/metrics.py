"""Detection metrics: NMS on the exported output layout and COCO-style mAP.

AP per class is the area under the interpolated precision-recall curve sampled
at 101 recall points (the COCO convention Ultralytics also uses), at IoU 0.5
(mAP50) and averaged over IoU 0.50:0.05:0.95 (mAP50-95). Predictions are matched
greedily by confidence to the best-overlapping unmatched box of the same class.
"""
from __future__ import annotations

import numpy as np
import torch
import torchvision

from .boxes import box_iou, xywh2xyxy

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)


def nms(pred: torch.Tensor, conf: float = 0.001, iou: float = 0.7, max_det: int = 300) -> list[torch.Tensor]:
    """pred [B, 4+nc, N] (cx, cy, w, h, scores) -> per image [k, 6]: x1, y1, x2, y2, score, cls."""
    out = []
    for p in pred.transpose(1, 2):  # [N, 4+nc]
        scores, cls = p[:, 4:].max(1)
        keep = scores > conf
        boxes = xywh2xyxy(p[keep, :4])
        scores, cls = scores[keep], cls[keep]
        if len(scores) > 30000:  # bound NMS cost while the model is still untrained
            top = scores.topk(30000).indices
            boxes, scores, cls = boxes[top], scores[top], cls[top]
        k = torchvision.ops.batched_nms(boxes.float(), scores.float(), cls, iou)[:max_det]
        out.append(torch.cat((boxes[k], scores[k, None], cls[k, None].to(boxes.dtype)), 1))
    return out


def match(det: torch.Tensor, gt: torch.Tensor) -> np.ndarray:
    """det [k, 6], gt [n, 5] (cls, xyxy) -> true-positive flags [k, 10], one column per IoU threshold."""
    tp = np.zeros((len(det), len(IOU_THRESHOLDS)), dtype=bool)
    if len(det) == 0 or len(gt) == 0:
        return tp
    iou = box_iou(det[:, :4], gt[:, 1:5]).cpu().numpy()
    iou = iou * (det[:, 5:6].cpu().numpy() == gt[:, 0].cpu().numpy()[None, :])
    order = np.argsort(-det[:, 4].cpu().numpy(), kind="stable")
    for t, thr in enumerate(IOU_THRESHOLDS):
        taken = np.zeros(len(gt), dtype=bool)
        for i in order:
            cand = np.where(~taken & (iou[i] >= thr))[0]
            if len(cand):
                j = cand[np.argmax(iou[i, cand])]
                taken[j] = True
                tp[i, t] = True
    return tp


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """COCO 101-point AP: mean over recall thresholds r of the best precision at recall >= r (0 if unreached).

    recall must be non-decreasing (detections sorted by confidence)."""
    if len(recall) == 0:
        return 0.0
    envelope = np.flip(np.maximum.accumulate(np.flip(precision)))
    idx = np.searchsorted(recall, np.linspace(0, 1, 101), side="left")
    reached = idx < len(recall)
    return float(np.where(reached, envelope[np.minimum(idx, len(recall) - 1)], 0.0).mean())


class MapAccumulator:
    """Collects matched detections image by image, then computes per-class AP."""

    def __init__(self, nc: int):
        self.nc = nc
        self.tp: list[np.ndarray] = []
        self.conf: list[np.ndarray] = []
        self.pred_cls: list[np.ndarray] = []
        self.gt_count = np.zeros(nc, dtype=np.int64)
        self.images = 0

    def add(self, det: torch.Tensor, gt: torch.Tensor) -> None:
        self.images += 1
        self.tp.append(match(det, gt))
        self.conf.append(det[:, 4].cpu().numpy())
        self.pred_cls.append(det[:, 5].cpu().numpy().astype(int))
        self.gt_count += np.bincount(gt[:, 0].cpu().numpy().astype(int), minlength=self.nc)[: self.nc]

    def compute(self, names: list[str]) -> dict:
        tp = np.concatenate(self.tp) if self.tp else np.zeros((0, 10), bool)
        conf = np.concatenate(self.conf) if self.conf else np.zeros(0)
        pcls = np.concatenate(self.pred_cls) if self.pred_cls else np.zeros(0, int)
        order = np.argsort(-conf, kind="stable")
        tp, conf, pcls = tp[order], conf[order], pcls[order]
        per_class = []
        ap = np.zeros((self.nc, len(IOU_THRESHOLDS)))
        p_at, r_at = np.zeros(self.nc), np.zeros(self.nc)
        for c in range(self.nc):
            sel = pcls == c
            n_gt = int(self.gt_count[c])
            n_pred = int(sel.sum())
            if n_gt and n_pred:
                tpc = np.cumsum(tp[sel], 0)
                fpc = np.cumsum(~tp[sel], 0)
                recall = tpc / n_gt
                precision = tpc / (tpc + fpc)
                for t in range(len(IOU_THRESHOLDS)):
                    ap[c, t] = average_precision(recall[:, t], precision[:, t])
                # Operating point at confidence 0.25 (a typical deployment threshold).
                k = int(np.searchsorted(-conf[sel], -0.25, side="right"))
                if k:
                    p_at[c], r_at[c] = precision[k - 1, 0], recall[k - 1, 0]
            per_class.append(
                {
                    "class": c,
                    "name": names[c] if c < len(names) else str(c),
                    "instances": n_gt,
                    "ap50": float(ap[c, 0]),
                    "ap50_95": float(ap[c].mean()),
                    "precision": float(p_at[c]),
                    "recall": float(r_at[c]),
                }
            )
        present = self.gt_count > 0
        def mean(v):
            return float(v[present].mean()) if present.any() else 0.0
        return {
            "mAP50": mean(ap[:, 0]),
            "mAP50_95": mean(ap.mean(1)),
            "precision": mean(p_at),
            "recall": mean(r_at),
            "images": self.images,
            "instances": int(self.gt_count.sum()),
            "per_class": per_class,
        }


def fitness(m: dict) -> float:
    """Checkpoint selection score, weighted towards the stricter metric (as Ultralytics)."""
    return 0.1 * m["mAP50"] + 0.9 * m["mAP50_95"]


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader, device: torch.device, names: list[str], half: bool = False) -> dict:
    """mAP of a model (in eval mode it returns [B, 4+nc, N]) over a letterboxed, unaugmented loader."""
    was_training = model.training
    model.eval()
    acc = MapAccumulator(len(names))
    for imgs, targets, _ in loader:
        x = imgs.to(device, non_blocking=True).float() / 255.0
        if half:
            x = x.half()
        pred = model(x).float()
        dets = nms(pred)
        for k, det in enumerate(dets):
            gt = targets[targets[:, 0] == k][:, 1:].to(det.device)
            acc.add(det, gt)
    model.train(was_training)
    return acc.compute(names)
