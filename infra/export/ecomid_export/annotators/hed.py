"""ControlNet's Apache-2.0 HED as controlnet_aux's HEDdetector runs it.

Architecture and state-dict names follow huggingface/controlnet_aux src/controlnet_aux/hed/__init__.py (0.0.10)
ControlNetHED_Apache2 / DoubleConvBlock: `norm` (1,3,1,1) subtracted from the RGB input in 0..255, then five
blocks of 3x3 convolutions + ReLU (2, 2, 3, 3, 3 of them; widths 64, 128, 256, 512, 512), each after the first
preceded by a 2x2 max-pool, each ending in a 1x1 `projection` to one channel. The published
lllyasviel/Annotators ControlNetHED.pth is a plain state dict (HEDdetector loads it as is) in float16: its
29,444,406 bytes (the LFS pointer's size) hold 14,716,168 values at 2 bytes; HEDdetector casts it with `.float()`.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..strict_load import load_strict


@dataclass(frozen=True)
class HedConfig:
    widths: tuple[int, ...] = (64, 128, 256, 512, 512)
    convs: tuple[int, ...] = (2, 2, 3, 3, 3)


CONTROLNET_HED = HedConfig()
TINY_HED = HedConfig(widths=(4, 8, 8, 8, 8))


class DoubleConvBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, layers: int):
        super().__init__()
        self.convs = nn.Sequential(*(nn.Conv2d(c_in if i == 0 else c_out, c_out, kernel_size=3, padding=1) for i in range(layers)))
        self.projection = nn.Conv2d(c_out, 1, kernel_size=1)

    def forward(self, x: torch.Tensor, down_sampling: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.max_pool2d(x, kernel_size=2, stride=2) if down_sampling else x
        for conv in self.convs:
            h = F.relu(conv(h))
        return h, self.projection(h)


class ControlNetHed(nn.Module):
    """forward(RGB in 0..255, NCHW) -> the five one-channel projections (pre-sigmoid), at 1, 1/2, ... 1/16 size."""

    def __init__(self, config: HedConfig = CONTROLNET_HED):
        super().__init__()
        self.config = config
        self.norm = nn.Parameter(torch.zeros(1, 3, 1, 1))
        c_in = 3
        for i, (width, layers) in enumerate(zip(config.widths, config.convs), start=1):
            setattr(self, f"block{i}", DoubleConvBlock(c_in, width, layers))
            c_in = width

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = x - self.norm
        projections = []
        for i in range(1, len(self.config.widths) + 1):
            h, p = getattr(self, f"block{i}")(h, down_sampling=i > 1)
            projections.append(p)
        return projections


def build_hed(state_dict: Mapping[str, torch.Tensor], source: str, config: HedConfig = CONTROLNET_HED) -> ControlNetHed:
    """ControlNetHed in float32 (as HEDdetector's `.float()`) with `state_dict` loaded strictly."""
    model = ControlNetHed(config)
    load_strict(model, {k: v.float() for k, v in state_dict.items()}, source)
    return model.eval()


def load_hed_checkpoint(path, config: HedConfig = CONTROLNET_HED) -> ControlNetHed:
    return build_hed(torch.load(str(path), map_location="cpu", weights_only=True), str(path), config)
