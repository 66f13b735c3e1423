"""YOLOv8 detection loss: BCE on task-aligned soft class targets, CIoU box loss and DFL.

All three are normalised by the sum of target scores, and the box and DFL terms
are weighted per positive anchor by its target score, so well-aligned anchors
count more. Gains follow Ultralytics' defaults (box 7.5, cls 0.5, dfl 1.5).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .assigner import TaskAlignedAssigner
from .boxes import bbox2dist, ciou
from .model import Detector, dist2bbox, make_anchors


@dataclass(frozen=True)
class LossGains:
    box: float = 7.5
    cls: float = 0.5
    dfl: float = 1.5


def dfl_loss(pred_dist: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Distribution focal loss (Li et al., GFL, NeurIPS 2020): cross-entropy towards the two
    bins around a continuous target, weighted by proximity. pred_dist [K, 4, R], target [K, 4]."""
    left = target.long()
    right = left + 1
    wl = right.to(target.dtype) - target
    wr = 1 - wl
    r = pred_dist.shape[-1]
    logits = pred_dist.reshape(-1, r)
    ce_l = F.cross_entropy(logits, left.view(-1), reduction="none").view(left.shape)
    ce_r = F.cross_entropy(logits, right.view(-1), reduction="none").view(left.shape)
    return (ce_l * wl + ce_r * wr).mean(-1, keepdim=True)


class DetectionLoss:
    def __init__(self, model: Detector, gains: LossGains = LossGains(), topk: int = 10):
        head = model.head
        self.nc = head.nc
        self.reg_max = head.reg_max
        self.no = head.no
        self.strides = head.strides
        self.gains = gains
        self.assigner = TaskAlignedAssigner(self.nc, topk=topk)
        self.proj = torch.arange(self.reg_max, dtype=torch.float32)

    def _targets(self, targets: torch.Tensor, batch: int, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """[K, 6] (batch index, cls, xyxy) -> padded labels [B, M, 1], boxes [B, M, 4], mask [B, M, 1]."""
        if len(targets) == 0:
            z = torch.zeros((batch, 0, 1), device=device)
            return z, torch.zeros((batch, 0, 4), device=device), z.bool()
        bi = targets[:, 0].long()
        counts = torch.bincount(bi, minlength=batch)
        m = int(counts.max())
        labels = torch.zeros((batch, m, 1), device=device)
        boxes = torch.zeros((batch, m, 4), device=device)
        mask = torch.zeros((batch, m, 1), dtype=torch.bool, device=device)
        for k in range(batch):
            rows = targets[bi == k]
            j = len(rows)
            if j:
                labels[k, :j, 0] = rows[:, 1]
                boxes[k, :j] = rows[:, 2:6]
                mask[k, :j] = True
        return labels, boxes, mask

    def __call__(self, feats: list[torch.Tensor], targets: torch.Tensor):
        """feats: the head's training outputs; targets [K, 6] in input pixels.

        Returns (loss to backpropagate, detached [box, cls, dfl] components)."""
        b = feats[0].shape[0]
        device = feats[0].device
        x = torch.cat([f.view(b, self.no, -1) for f in feats], 2)
        pred_dist, pred_cls = x.split((4 * self.reg_max, self.nc), 1)
        pred_dist = pred_dist.permute(0, 2, 1).contiguous()  # [B, N, 4R]
        pred_cls = pred_cls.permute(0, 2, 1).contiguous()  # [B, N, C]
        n = pred_cls.shape[1]

        anchors, stride_t = make_anchors([f.shape[2:] for f in feats], self.strides, device, pred_cls.dtype)
        proj = self.proj.to(device, pred_dist.dtype)
        dist = pred_dist.view(b, n, 4, self.reg_max).softmax(3) @ proj  # [B, N, 4] in grid units
        pred_boxes = dist2bbox(dist, anchors, xywh=False)  # grid units

        # Padding happens on the CPU (bincount has no deterministic CUDA kernel), then moves once.
        gt_labels, gt_boxes, mask_gt = (t.to(device) for t in self._targets(targets.detach().cpu().float(), b, "cpu"))
        _, t_boxes, t_scores, fg = self.assigner(
            pred_cls.detach().sigmoid(),
            (pred_boxes.detach() * stride_t).to(gt_boxes.dtype),
            anchors * stride_t,
            gt_labels,
            gt_boxes,
            mask_gt,
        )
        t_sum = t_scores.sum().clamp(min=1.0)

        loss_cls = F.binary_cross_entropy_with_logits(pred_cls, t_scores.to(pred_cls.dtype), reduction="none").sum() / t_sum
        loss_box = torch.zeros((), device=device)
        loss_dfl = torch.zeros((), device=device)
        if fg.any():
            t_boxes = t_boxes / stride_t  # to grid units, like the predictions
            weight = t_scores.sum(-1)[fg].unsqueeze(-1)
            iou = ciou(pred_boxes[fg], t_boxes[fg]).unsqueeze(-1)
            loss_box = ((1.0 - iou) * weight).sum() / t_sum
            t_ltrb = bbox2dist(anchors.expand(b, -1, -1)[fg], t_boxes[fg], self.reg_max - 1)
            loss_dfl = (dfl_loss(pred_dist[fg].view(-1, 4, self.reg_max), t_ltrb) * weight).sum() / t_sum

        parts = torch.stack((loss_box * self.gains.box, loss_cls * self.gains.cls, loss_dfl * self.gains.dfl))
        # Scaled by the batch size like Ultralytics, so gradient clipping behaves the same.
        return parts.sum() * b, parts.detach()
