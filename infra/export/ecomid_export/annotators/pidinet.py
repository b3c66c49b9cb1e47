"""PiDiNet as controlnet_aux's PidiNetDetector runs it: `pidinet()` = PiDiNet(60, carv4, dil=24, sa=True).

Architecture, state-dict names and arithmetic follow huggingface/controlnet_aux src/controlnet_aux/pidi/model.py
(0.0.10; itself hellozhuo/pidinet models/pidinet.py): the init block and every PDCBlock's depthwise conv1 are
pixel-difference convolutions (PDC) whose kernels are derived from the stored 3x3 weights at each call.
controlnet_aux runs them unconverted (`convert=False`: `cd` as two convolutions and a subtraction; `ad` on the
kernel minus its clockwise rotation; `rd` as a 5x5 kernel built from the 3x3). hellozhuo/pidinet's
models/convert_pidinet.py folds `cd` into one kernel too, which rounds differently; this module keeps
controlnet_aux's arithmetic so the two agree exactly, and only the kernel derivations (weights only) are
folded into constants by the ONNX exporter.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..strict_load import WeightMismatchError, load_strict

# controlnet_aux pidi/model.py `nets['carv4']`: layer i's PDC type, init block first, then the 15 PDCBlocks.
CARV4 = ("cd", "ad", "rd", "cv") * 4
# The published checkpoint was saved from a DataParallel model (hellozhuo/pidinet main.py), as
# {'epoch', 'state_dict'} with every key under 'module.' (read off hellozhuo/pidinet trained_models/table5_pidinet.pth,
# whose sha256 80860ac2...a050acc30da486c is lllyasviel/Annotators' file, upload 733558a; controlnet_aux
# pidi/__init__.py reads ['state_dict'] and drops 'module.').
CHECKPOINT_PREFIX = "module."
# ad: each tap minus its clockwise neighbour (pidi/model.py createConvFunc 'ad').
_AD_CLOCKWISE = (3, 0, 1, 6, 4, 2, 7, 8, 5)
# rd: a 5x5 kernel; source index 0 is zero, 1..8 the outer ring (taps 1..8 of the 3x3), 9..16 their negatives
# on the inner ring (pidi/model.py createConvFunc 'rd': positions [0,2,4,10,14,20,22,24] and [6,7,8,11,13,16,17,18]).
_RD_SOURCE = [0] * 25
for _tap, (_outer, _inner) in enumerate(zip((0, 2, 4, 10, 14, 20, 22, 24), (6, 7, 8, 11, 13, 16, 17, 18)), start=1):
    _RD_SOURCE[_outer], _RD_SOURCE[_inner] = _tap, _tap + 8


@dataclass(frozen=True)
class PidiNetConfig:
    inplane: int = 60  # C: stage widths C, 2C, 4C, 4C
    dil: int = 24  # CDCM width
    csam_mid: int = 4  # CSAM's hidden width (fixed in pidi/model.py)

    @property
    def stage_widths(self) -> tuple[int, int, int, int]:
        return (self.inplane, 2 * self.inplane, 4 * self.inplane, 4 * self.inplane)


TABLE5_PIDINET = PidiNetConfig()
TINY_PIDINET = PidiNetConfig(inplane=4, dil=4)


class PixelDifferenceConv(nn.Module):
    """pidi/model.py Conv2d with its createConvFunc(op): one `weight` (no bias), 3x3, padding 1, dilation 1."""

    def __init__(self, op: str, c_in: int, c_out: int, groups: int = 1):
        super().__init__()
        if op not in ("cv", "cd", "ad", "rd"):
            raise ValueError(f"unknown pixel-difference op {op!r}")
        self.op, self.groups = op, groups
        self.weight = nn.Parameter(torch.empty(c_out, c_in // groups, 3, 3))
        self.register_buffer("rd_source", torch.tensor(_RD_SOURCE), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight
        if self.op == "cv":
            return F.conv2d(x, w, padding=1, groups=self.groups)
        if self.op == "cd":  # central difference, in controlnet_aux's order: conv(x, w) - conv(x, sum(w))
            centre = w.sum(dim=[2, 3], keepdim=True)
            return F.conv2d(x, w, padding=1, groups=self.groups) - F.conv2d(x, centre, groups=self.groups)
        flat = w.reshape(w.shape[0], w.shape[1], 9)
        if self.op == "ad":
            kernel = (flat - flat[:, :, list(_AD_CLOCKWISE)]).reshape(w.shape)
            return F.conv2d(x, kernel, padding=1, groups=self.groups)
        # rd: copies and negations only, so the 5x5 kernel is exact (a gather, which the exporter folds).
        source = torch.cat([torch.zeros_like(flat[:, :, :1]), flat[:, :, 1:], -flat[:, :, 1:]], dim=2)
        kernel = source[:, :, self.rd_source].reshape(w.shape[0], w.shape[1], 5, 5)
        return F.conv2d(x, kernel, padding=2, groups=self.groups)


class PdcBlock(nn.Module):
    """pidi/model.py PDCBlock: [maxpool 2x2 + 1x1 shortcut when stride 2] depthwise PDC, ReLU, 1x1, residual."""

    def __init__(self, op: str, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.stride = stride
        if stride > 1:
            self.shortcut = nn.Conv2d(c_in, c_out, kernel_size=1)
        self.conv1 = PixelDifferenceConv(op, c_in, c_in, groups=c_in)
        self.conv2 = nn.Conv2d(c_in, c_out, kernel_size=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = F.max_pool2d(x, kernel_size=2, stride=2)
        y = self.conv2(F.relu(self.conv1(x)))
        if self.stride > 1:
            x = self.shortcut(x)
        return y + x


class Csam(nn.Module):
    """pidi/model.py CSAM (compact spatial attention): x * sigmoid(conv2(conv1(relu(x))))."""

    def __init__(self, channels: int, mid: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, mid, kernel_size=1)
        self.conv2 = nn.Conv2d(mid, 1, kernel_size=3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.conv2(self.conv1(F.relu(x))))


class Cdcm(nn.Module):
    """pidi/model.py CDCM (compact dilated convolutions): 1x1 after ReLU, then four 3x3 at dilations 5, 7, 9, 11, summed
    left to right as controlnet_aux does."""

    DILATIONS = (5, 7, 9, 11)

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, kernel_size=1)
        for i, d in enumerate(self.DILATIONS, start=1):
            setattr(self, f"conv2_{i}", nn.Conv2d(c_out, c_out, kernel_size=3, dilation=d, padding=d, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(F.relu(x))
        return self.conv2_1(x) + self.conv2_2(x) + self.conv2_3(x) + self.conv2_4(x)


class MapReduce(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, 1, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class PiDiNet(nn.Module):
    """pidi/model.py PiDiNet(inplane, carv4, dil, sa=True, convert=False). forward(BGR in [0,1], NCHW) returns the
    five sigmoid maps [e1, e2, e3, e4, fused] at the input's size; PidiNetDetector keeps the last."""

    def __init__(self, config: PidiNetConfig = TABLE5_PIDINET):
        super().__init__()
        self.config = config
        c1, c2, c3, c4 = config.stage_widths
        # Registration order = the checkpoint's key order (shortcut before conv1, conv_reduces before attentions).
        self.init_block = PixelDifferenceConv(CARV4[0], 3, c1)
        stages = ((c1, c1, 3), (c1, c2, 4), (c2, c3, 4), (c3, c4, 4))
        layer = 1
        for s, (c_in, c_out, blocks) in enumerate(stages, start=1):
            for b in range(1, blocks + 1):
                first_of_stride = b == 1 and s > 1
                setattr(self, f"block{s}_{b}", PdcBlock(CARV4[layer], c_in if b == 1 else c_out, c_out, 2 if first_of_stride else 1))
                layer += 1
        self.conv_reduces = nn.ModuleList(MapReduce(config.dil) for _ in range(4))
        self.attentions = nn.ModuleList(Csam(config.dil, config.csam_mid) for _ in range(4))
        self.dilations = nn.ModuleList(Cdcm(c, config.dil) for c in config.stage_widths)
        self.classifier = nn.Conv2d(4, 1, kernel_size=1)

    def _stage(self, x: torch.Tensor, stage: int, blocks: int) -> torch.Tensor:
        for b in range(1, blocks + 1):
            x = getattr(self, f"block{stage}_{b}")(x)
        return x

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [torch.sigmoid(m) for m in self.logits(x)]

    def logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The five maps before their sigmoid."""
        size = x.shape[2:]
        x1 = self._stage(self.init_block(x), 1, 3)
        x2 = self._stage(x1, 2, 4)
        x3 = self._stage(x2, 3, 4)
        x4 = self._stage(x3, 4, 4)
        maps = []
        for i, xi in enumerate((x1, x2, x3, x4)):
            e = self.conv_reduces[i](self.attentions[i](self.dilations[i](xi)))
            maps.append(F.interpolate(e, size, mode="bilinear", align_corners=False))
        maps.append(self.classifier(torch.cat(maps, dim=1)))
        return maps


def unwrap_pidinet_checkpoint(checkpoint: Mapping, source: str) -> dict[str, torch.Tensor]:
    """The state dict inside a published PiDiNet checkpoint ({'epoch', 'state_dict'}), 'module.' removed.
    Every key must carry the prefix: a key without it is named, not silently kept."""
    if not isinstance(checkpoint, Mapping) or "state_dict" not in checkpoint:
        found = sorted(checkpoint) if isinstance(checkpoint, Mapping) else type(checkpoint).__name__
        raise WeightMismatchError(f"{source}: expected a checkpoint dict with 'state_dict' (hellozhuo/pidinet's save), found {found}")
    state = checkpoint["state_dict"]
    unprefixed = sorted(k for k in state if not k.startswith(CHECKPOINT_PREFIX))
    if unprefixed:
        raise WeightMismatchError(f"{source}: keys outside {CHECKPOINT_PREFIX!r} (a DataParallel save has every key under it): "
                                  + ", ".join(unprefixed[:12]))
    return {k[len(CHECKPOINT_PREFIX):]: v for k, v in state.items()}


def build_pidinet(state_dict: Mapping[str, torch.Tensor], source: str, config: PidiNetConfig = TABLE5_PIDINET) -> PiDiNet:
    """PiDiNet in float32 with `state_dict` (already unwrapped) loaded strictly; `source` names the file in errors."""
    model = PiDiNet(config)
    load_strict(model, {k: v.float() for k, v in state_dict.items()}, source)
    return model.eval()


def load_pidinet_checkpoint(path, config: PidiNetConfig = TABLE5_PIDINET) -> PiDiNet:
    """table5_pidinet.pth as controlnet_aux reads it (torch.load(...)['state_dict'], 'module.' dropped), strictly."""
    checkpoint = torch.load(str(path), map_location="cpu", weights_only=True)
    return build_pidinet(unwrap_pidinet_checkpoint(checkpoint, str(path)), str(path), config)
