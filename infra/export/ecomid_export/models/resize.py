"""Antialiased bicubic resize as fixed gathers, because ONNX export of torch's `antialias=True` is unsupported.

The taps and weights are read off torch's own implementation (resizing an
identity matrix), so the result matches `F.interpolate(..., antialias=True)`
to float rounding.
"""

import torch
import torch.nn.functional as F
from torch import nn


def _resize_matrix(size_in: int, size_out: int) -> torch.Tensor:
    identity = torch.eye(size_in, dtype=torch.float64).view(1, 1, size_in, size_in)
    resized = F.interpolate(identity, size=(size_out, size_in), mode="bicubic", align_corners=False, antialias=True)
    return resized[0, 0]  # [size_out, size_in]: row i holds the weights of output i


class FixedBicubicResize(nn.Module):
    """[N,C,S_in,S_in] -> [N,C,S_out,S_out], separable: rows then columns."""

    def __init__(self, size_in: int, size_out: int):
        super().__init__()
        matrix = _resize_matrix(size_in, size_out)
        taps = int((matrix != 0).sum(dim=1).max())
        indices = torch.zeros(size_out, taps, dtype=torch.int64)
        weights = torch.zeros(size_out, taps, dtype=torch.float32)
        for row in range(size_out):
            nonzero = torch.nonzero(matrix[row]).flatten()
            indices[row, : len(nonzero)] = nonzero
            weights[row, : len(nonzero)] = matrix[row, nonzero].float()
        self.register_buffer("indices", indices.flatten(), persistent=False)
        self.register_buffer("weights", weights, persistent=False)
        self.size_out, self.taps = size_out, taps

    def _along_last(self, x):
        picked = torch.index_select(x, -1, self.indices).unflatten(-1, (self.size_out, self.taps))
        return (picked * self.weights).sum(dim=-1)

    def forward(self, x):
        x = self._along_last(x)  # columns
        return self._along_last(x.transpose(-1, -2)).transpose(-1, -2)  # rows

    def reach(self, x):
        """Which outputs each input touches: the resize with its taps' absolute weights (no cancellation)."""
        def along_last(t):
            picked = torch.index_select(t, -1, self.indices).unflatten(-1, (self.size_out, self.taps))
            return (picked * self.weights.abs()).sum(dim=-1)
        return along_last(along_last(x).transpose(-1, -2)).transpose(-1, -2)
