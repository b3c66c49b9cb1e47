"""A tiny SCRFD-shaped detector for the tiny bundle (the real bundle copies antelopev2's scrfd_10g_bnkps.onnx).

Same contract as the published graph: input [1,3,S,S] (RGB - 127.5) / 128,
9 outputs in insightface's order: scores for strides 8/16/32 [K*2,1]
(probabilities), then boxes [K*2,4], then keypoints [K*2,10], both in units
of the stride; two anchors per cell, anchor-major within a cell.
"""

import torch
import torch.nn.functional as F
from torch import nn

STRIDES = (8, 16, 32)
ANCHORS = 2


class TinyScrfd(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(3, w, 3, 2, 1), nn.ReLU(), nn.Conv2d(w, w, 3, 2, 1), nn.ReLU(),
                                  nn.Conv2d(w, 2 * w, 3, 2, 1), nn.ReLU())  # stride 8
        self.down16 = nn.Sequential(nn.Conv2d(2 * w, 2 * w, 3, 2, 1), nn.ReLU())
        self.down32 = nn.Sequential(nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.ReLU())
        widths = (2 * w, 2 * w, 4 * w)
        self.score_heads = nn.ModuleList(nn.Conv2d(c, ANCHORS, 3, 1, 1) for c in widths)
        self.box_heads = nn.ModuleList(nn.Conv2d(c, ANCHORS * 4, 3, 1, 1) for c in widths)
        self.kps_heads = nn.ModuleList(nn.Conv2d(c, ANCHORS * 10, 3, 1, 1) for c in widths)

    def logits(self, x):
        """Per stride: (score logits, boxes, keypoints), each flattened to [K*2, n]."""
        f8 = self.stem(x)
        f16 = self.down16(f8)
        features = (f8, f16, self.down32(f16))
        flat = lambda t, n: t.permute(0, 2, 3, 1).reshape(-1, n)  # noqa: E731
        return [(flat(s(f), 1), F.softplus(flat(b(f), 4)), flat(k(f), 10))
                for f, s, b, k in zip(features, self.score_heads, self.box_heads, self.kps_heads)]

    def forward(self, image):
        per_stride = self.logits(image)
        scores = [torch.sigmoid(s) for s, _, _ in per_stride]
        return (*scores, *(b for _, b, _ in per_stride), *(k for _, _, k in per_stride))


def anchor_centers(size: int, stride: int) -> torch.Tensor:
    """[K*2, 2] (x, y) centres, each cell twice, row-major: as insightface builds them."""
    cells = size // stride
    ys, xs = torch.meshgrid(torch.arange(cells), torch.arange(cells), indexing="ij")
    centers = torch.stack((xs, ys), dim=-1).reshape(-1, 2).float() * stride
    return centers.repeat_interleave(ANCHORS, dim=0)
