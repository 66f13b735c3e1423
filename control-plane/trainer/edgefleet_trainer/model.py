"""Compact YOLOv8-style anchor-free detector.

Backbone: Conv-BN-SiLU stem and downsampling convs with C2f blocks and an SPPF at
the end. Neck: PAN/FPN (top-down then bottom-up) over P3/P4/P5. Head: decoupled
box (DFL, reg_max bins per side) and class (sigmoid) branches at strides 8/16/32.

In training mode the model returns the raw per-level maps; in inference mode it
returns the Ultralytics output contract: [B, 4 + nc, N] with cx, cy, w, h in
input pixels followed by per-class sigmoid scores (no objectness).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

STRIDES = (8, 16, 32)

# Width and depth per scale. 'n' mirrors YOLOv8n's channel plan (16..256) with
# slimmer head branches so it stays under 3M parameters for up to 80 classes;
# 'p' (pico) halves the widths for very slow CPUs.
SCALES = {
    "n": {"width": (16, 32, 64, 128, 256), "depth": (1, 2, 2, 1), "neck_depth": 1},
    "p": {"width": (8, 16, 32, 64, 128), "depth": (1, 1, 1, 1), "neck_depth": 1},
}


@dataclass(frozen=True)
class ModelConfig:
    nc: int
    scale: str = "n"
    reg_max: int = 16

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "ModelConfig":
        return ModelConfig(nc=int(d["nc"]), scale=str(d.get("scale", "n")), reg_max=int(d.get("reg_max", 16)))


class Conv(nn.Module):
    """Conv2d (no bias) + BatchNorm + SiLU."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        # Ultralytics' BN settings: eps 1e-3, momentum 0.03 suit small batches.
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c: int, shortcut: bool):
        super().__init__()
        self.cv1 = Conv(c, c, 3)
        self.cv2 = Conv(c, c, 3)
        self.add = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    """CSP block with two convolutions: split, n bottlenecks on one half, concat every stage."""

    def __init__(self, c1: int, c2: int, n: int = 1, shortcut: bool = False):
        super().__init__()
        self.c = c2 // 2
        self.cv1 = Conv(c1, 2 * self.c, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            y.append(m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    """Spatial pyramid pooling, fast: three chained 5x5 max pools."""

    def __init__(self, c1: int, c2: int, k: int = 5):
        super().__init__()
        c_ = c1 // 2
        self.cv1 = Conv(c1, c_, 1)
        self.cv2 = Conv(c_ * 4, c2, 1)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class Backbone(nn.Module):
    def __init__(self, width: tuple, depth: tuple):
        super().__init__()
        w0, w1, w2, w3, w4 = width
        self.stem = Conv(3, w0, 3, 2)  # /2
        self.stage1 = nn.Sequential(Conv(w0, w1, 3, 2), C2f(w1, w1, depth[0], True))  # /4
        self.stage2 = nn.Sequential(Conv(w1, w2, 3, 2), C2f(w2, w2, depth[1], True))  # /8  -> P3
        self.stage3 = nn.Sequential(Conv(w2, w3, 3, 2), C2f(w3, w3, depth[2], True))  # /16 -> P4
        self.stage4 = nn.Sequential(Conv(w3, w4, 3, 2), C2f(w4, w4, depth[3], True), SPPF(w4, w4))  # /32 -> P5

    def forward(self, x: torch.Tensor):
        x = self.stage1(self.stem(x))
        p3 = self.stage2(x)
        p4 = self.stage3(p3)
        p5 = self.stage4(p4)
        return p3, p4, p5


class Neck(nn.Module):
    """PAN/FPN: upsample P5 into P4 and P3, then downsample back to P4 and P5."""

    def __init__(self, c3: int, c4: int, c5: int, n: int):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2.0, mode="nearest")
        self.td4 = C2f(c5 + c4, c4, n)
        self.td3 = C2f(c4 + c3, c3, n)
        self.down3 = Conv(c3, c3, 3, 2)
        self.bu4 = C2f(c3 + c4, c4, n)
        self.down4 = Conv(c4, c4, 3, 2)
        self.bu5 = C2f(c4 + c5, c5, n)

    def forward(self, p3, p4, p5):
        t4 = self.td4(torch.cat((self.up(p5), p4), 1))
        n3 = self.td3(torch.cat((self.up(t4), p3), 1))
        n4 = self.bu4(torch.cat((self.down3(n3), t4), 1))
        n5 = self.bu5(torch.cat((self.down4(n4), p5), 1))
        return n3, n4, n5


class DFL(nn.Module):
    """Distribution focal loss integral: expected value of a softmax over reg_max bins."""

    def __init__(self, reg_max: int):
        super().__init__()
        self.reg_max = reg_max
        self.register_buffer("proj", torch.arange(reg_max, dtype=torch.float32), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: [B, 4*reg_max, N] -> [B, 4, N]
        b, _, n = x.shape
        x = x.view(b, 4, self.reg_max, n).softmax(2)
        return (x * self.proj.view(1, 1, -1, 1)).sum(2)


def make_anchors(shapes, strides, device, dtype, offset: float = 0.5):
    """Anchor points (grid cell centres, in grid units) and their stride, level by level."""
    points, stride_t = [], []
    for (h, w), s in zip(shapes, strides):
        sy = torch.arange(h, device=device, dtype=dtype) + offset
        sx = torch.arange(w, device=device, dtype=dtype) + offset
        yy, xx = torch.meshgrid(sy, sx, indexing="ij")
        points.append(torch.stack((xx, yy), -1).view(-1, 2))
        stride_t.append(torch.full((h * w, 1), float(s), device=device, dtype=dtype))
    return torch.cat(points), torch.cat(stride_t)


def dist2bbox(distance: torch.Tensor, anchors: torch.Tensor, xywh: bool, dim: int = -1) -> torch.Tensor:
    """Left/top/right/bottom distances from anchor points to boxes (xywh or xyxy)."""
    lt, rb = distance.chunk(2, dim)
    x1y1 = anchors - lt
    x2y2 = anchors + rb
    if xywh:
        return torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), dim)
    return torch.cat((x1y1, x2y2), dim)


class Detect(nn.Module):
    """Decoupled head: per level a box branch (4*reg_max DFL logits) and a class branch (nc logits)."""

    def __init__(self, nc: int, reg_max: int, channels: tuple):
        super().__init__()
        self.nc = nc
        self.reg_max = reg_max
        self.no = 4 * reg_max + nc
        self.strides = STRIDES
        cb = max(16, channels[0] // 4, 4 * reg_max)  # box branch width
        cc = max(channels[0] // 2, min(nc, 32))  # class branch width
        self.box = nn.ModuleList(
            nn.Sequential(Conv(c, cb, 3), Conv(cb, cb, 3), nn.Conv2d(cb, 4 * reg_max, 1)) for c in channels
        )
        self.cls = nn.ModuleList(
            nn.Sequential(Conv(c, cc, 3), Conv(cc, cc, 3), nn.Conv2d(cc, nc, 1)) for c in channels
        )
        self.dfl = DFL(reg_max)

    def init_bias(self, imgsz: int = 640) -> None:
        # Box logits start flat; class logits start at a prior of ~5 objects per image
        # spread over the level's cells, so early BCE is not dominated by negatives.
        for b, c, s in zip(self.box, self.cls, self.strides):
            nn.init.constant_(b[-1].bias, 1.0)
            nn.init.constant_(c[-1].bias, math.log(5 / self.nc / (imgsz / s) ** 2))

    def forward(self, feats):
        out = [torch.cat((b(x), c(x)), 1) for x, b, c in zip(feats, self.box, self.cls)]
        if self.training:
            return out
        return self.decode(out)

    def decode(self, out):
        b = out[0].shape[0]
        shapes = [tuple(o.shape[2:]) for o in out]
        anchors, stride_t = make_anchors(shapes, self.strides, out[0].device, out[0].dtype)
        x = torch.cat([o.view(b, self.no, -1) for o in out], 2)
        box, cls = x.split((4 * self.reg_max, self.nc), 1)
        dist = self.dfl(box)  # [B, 4, N] in grid units
        xywh = dist2bbox(dist, anchors.t().unsqueeze(0), xywh=True, dim=1) * stride_t.t().unsqueeze(0)
        return torch.cat((xywh, cls.sigmoid()), 1)


class Detector(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.scale not in SCALES:
            raise ValueError(f"unknown model scale {cfg.scale!r} (known: {', '.join(SCALES)})")
        if cfg.nc < 1:
            raise ValueError("nc must be >= 1")
        self.cfg = cfg
        sc = SCALES[cfg.scale]
        w = sc["width"]
        self.backbone = Backbone(w, sc["depth"])
        self.neck = Neck(w[2], w[3], w[4], sc["neck_depth"])
        self.head = Detect(cfg.nc, cfg.reg_max, (w[2], w[3], w[4]))
        self.stride = max(STRIDES)
        self.head.init_bias()

    def forward(self, x: torch.Tensor):
        return self.head(self.neck(*self.backbone(x)))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def num_anchors(h: int, w: int) -> int:
    return sum((h // s) * (w // s) for s in STRIDES)
