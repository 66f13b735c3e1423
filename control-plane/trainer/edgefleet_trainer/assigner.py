"""Task-aligned assigner (TOOD, Feng et al., ICCV 2021), as used by YOLOv8.

For each ground-truth box, anchors whose centre lies inside the box are
candidates; their alignment metric is t = s^alpha * u^beta, with s the predicted
score for the box's class and u the IoU between the predicted and the true box.
The top-k candidates by t become positives; an anchor claimed by several boxes
keeps the one it overlaps most. Soft class targets are t normalised per box so
that the best-aligned anchor of each box gets that box's best IoU.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .boxes import ciou


class TaskAlignedAssigner:
    def __init__(self, nc: int, topk: int = 10, alpha: float = 0.5, beta: float = 6.0, eps: float = 1e-9):
        self.nc = nc
        self.topk = topk
        self.alpha = alpha
        self.beta = beta
        self.eps = eps

    @torch.no_grad()
    def __call__(self, pd_scores, pd_bboxes, anchors, gt_labels, gt_bboxes, mask_gt):
        """
        pd_scores [B, N, C] (sigmoid), pd_bboxes [B, N, 4] xyxy, anchors [N, 2] (same units as boxes),
        gt_labels [B, M, 1], gt_bboxes [B, M, 4] xyxy, mask_gt [B, M, 1] (1 for real boxes, 0 for padding).

        Returns target labels [B, N], target boxes [B, N, 4], target scores [B, N, C], foreground mask [B, N].
        """
        b, n, c = pd_scores.shape
        m = gt_bboxes.shape[1]
        device = pd_scores.device
        if m == 0:
            return (
                torch.zeros((b, n), dtype=torch.long, device=device),
                torch.zeros((b, n, 4), device=device),
                torch.zeros((b, n, c), device=device),
                torch.zeros((b, n), dtype=torch.bool, device=device),
            )
        # Centre-in-box prior: every distance from the anchor to the box sides is positive.
        lt = anchors.view(1, 1, n, 2) - gt_bboxes[..., None, :2]
        rb = gt_bboxes[..., None, 2:] - anchors.view(1, 1, n, 2)
        candidates = (torch.cat((lt, rb), -1).amin(-1) > self.eps) & mask_gt.bool()  # [B, M, N]

        labels = gt_labels.long().clamp(0, c - 1)
        scores = pd_scores.transpose(1, 2).gather(1, labels.expand(-1, -1, n))  # [B, M, N]
        # IoU only where it can matter (candidates), to bound memory at large B*M*N.
        overlaps = torch.zeros((b, m, n), dtype=pd_bboxes.dtype, device=device)
        gt_sel = gt_bboxes.unsqueeze(2).expand(-1, -1, n, -1)[candidates]
        pd_sel = pd_bboxes.unsqueeze(1).expand(-1, m, -1, -1)[candidates]
        overlaps[candidates] = ciou(gt_sel, pd_sel).clamp(0).to(overlaps.dtype)
        align = scores.pow(self.alpha) * overlaps.pow(self.beta) * candidates

        k = min(self.topk, n)
        top = align.topk(k, dim=-1).indices  # [B, M, k]
        mask_topk = torch.zeros_like(align).scatter_(-1, top, 1.0)
        mask_pos = mask_topk * candidates  # [B, M, N]

        # An anchor claimed by several boxes goes to the box it overlaps most.
        fg_count = mask_pos.sum(1)
        if (fg_count > 1).any():
            multi = (fg_count > 1).unsqueeze(1)
            best = F.one_hot(overlaps.argmax(1), m).permute(0, 2, 1).to(mask_pos.dtype)
            mask_pos = torch.where(multi, best, mask_pos)
            fg_count = mask_pos.sum(1)
        fg = fg_count > 0  # [B, N]
        gt_idx = mask_pos.argmax(1)  # [B, N]

        batch = torch.arange(b, device=device).unsqueeze(1)
        t_labels = labels.squeeze(-1)[batch, gt_idx]  # [B, N]
        t_bboxes = gt_bboxes[batch, gt_idx]  # [B, N, 4]
        t_scores = F.one_hot(t_labels, c).to(pd_scores.dtype) * fg.unsqueeze(-1)

        align = align * mask_pos
        align_max = align.amax(-1, keepdim=True)  # [B, M, 1]
        overlap_max = (overlaps * mask_pos).amax(-1, keepdim=True)
        norm = (align * overlap_max / (align_max + self.eps)).amax(1)  # [B, N]
        t_scores = t_scores * norm.unsqueeze(-1)
        return t_labels, t_bboxes, t_scores, fg
