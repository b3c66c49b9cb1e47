"""facexlib's two files PuLID uses, from xinntao/facexlib's releases, each torch.save of a plain state dict:

- `detection_Resnet50_Final.pth`: RetinaFace with a ResNet-50 body, as trained in biubug6/Pytorch_Retinaface
  under DataParallel, so every key starts with `module.` (facexlib/detection/__init__.py init_detection_model
  strips it). Names: facexlib/detection/retinaface.py RetinaFace (body = torchvision resnet50's conv1, bn1,
  layer1-4 through IntermediateLayerGetter; fpn.output1-3 / merge1-2 as Sequential(conv, bn); ssh1-3 with conv3X3,
  conv5X5_1, conv5X5_2, conv7X7_2, conv7x7_3; ClassHead / BboxHead / LandmarkHead .i.conv1x1 with 2 anchors),
  retinaface_net.py for the FPN and SSH widths.
- `parsing_bisenet.pth`: facexlib/parsing/bisenet.py BiSeNet(num_class=19) over resnet.py's ResNet-18
  (cp.resnet, cp.arm16 / arm32, cp.conv_head32 / 16, cp.conv_avg, ffm, conv_out / conv_out16 / conv_out32;
  ConvBNReLU = conv (no bias) + bn), loaded as it is (facexlib/parsing/__init__.py).
BatchNorm layers carry running_mean, running_var and num_batches_tracked.
The exporter reads the parser only; the detector is for infra/bench/eva_crop_landmarks.py.
"""

from pathlib import Path

import torch

from ..config import ArchConfig
from .random_weights import random_state

ANCHORS = 2
PARSING_CLASSES = 19


def _bn(prefix: str, channels: int) -> dict:
    return {f"{prefix}.{n}": (channels,) for n in ("weight", "bias", "running_mean", "running_var")} | {
        f"{prefix}.num_batches_tracked": ()}


def _conv(prefix: str, c_out: int, c_in: int, kernel: int, bias: bool = False) -> dict:
    return {f"{prefix}.weight": (c_out, c_in, kernel, kernel)} | ({f"{prefix}.bias": (c_out,)} if bias else {})


def _conv_bn(prefix: str, c_out: int, c_in: int, kernel: int) -> dict:
    """retinaface_net's conv_bn / conv_bn1X1 / conv_bn_no_relu: Sequential(Conv2d no bias, BatchNorm2d, ...)."""
    return _conv(f"{prefix}.0", c_out, c_in, kernel) | _bn(f"{prefix}.1", c_out)


def resnet50_body(prefix: str, stem: int, planes: tuple[int, ...], blocks: tuple[int, ...]) -> dict:
    layout = _conv(f"{prefix}.conv1", stem, 3, 7) | _bn(f"{prefix}.bn1", stem)
    c_in = stem
    for layer, (p, n) in enumerate(zip(planes, blocks), start=1):
        for b in range(n):
            block = f"{prefix}.layer{layer}.{b}"
            layout |= (_conv(f"{block}.conv1", p, c_in, 1) | _bn(f"{block}.bn1", p) | _conv(f"{block}.conv2", p, p, 3)
                       | _bn(f"{block}.bn2", p) | _conv(f"{block}.conv3", 4 * p, p, 1) | _bn(f"{block}.bn3", 4 * p))
            if b == 0:  # torchvision puts a projection on every stage's first block (stride or width change)
                layout |= _conv(f"{block}.downsample.0", 4 * p, c_in, 1) | _bn(f"{block}.downsample.1", 4 * p)
            c_in = 4 * p
    return layout


def retinaface_layout(arch: ArchConfig) -> dict[str, tuple[int, ...]]:
    stem, planes, fpn = arch.retinaface_widths[0], arch.retinaface_widths[1:5], arch.retinaface_widths[5]
    layout = resnet50_body("body", stem, planes, arch.retinaface_blocks)
    for i, stage_width in enumerate((4 * p for p in planes[1:]), start=1):
        layout |= _conv_bn(f"fpn.output{i}", fpn, stage_width, 1)
    layout |= _conv_bn("fpn.merge1", fpn, fpn, 3) | _conv_bn("fpn.merge2", fpn, fpn, 3)
    for s in (1, 2, 3):
        layout |= (_conv_bn(f"ssh{s}.conv3X3", fpn // 2, fpn, 3) | _conv_bn(f"ssh{s}.conv5X5_1", fpn // 4, fpn, 3)
                   | _conv_bn(f"ssh{s}.conv5X5_2", fpn // 4, fpn // 4, 3) | _conv_bn(f"ssh{s}.conv7X7_2", fpn // 4, fpn // 4, 3)
                   | _conv_bn(f"ssh{s}.conv7x7_3", fpn // 4, fpn // 4, 3))
    for head, values in (("ClassHead", 2), ("BboxHead", 4), ("LandmarkHead", 10)):
        for i in range(3):
            layout |= _conv(f"{head}.{i}.conv1x1", ANCHORS * values, fpn, 1, bias=True)
    return layout


def _conv_bn_relu(prefix: str, c_out: int, c_in: int, kernel: int = 3) -> dict:
    return _conv(f"{prefix}.conv", c_out, c_in, kernel) | _bn(f"{prefix}.bn", c_out)


def bisenet_layout(arch: ArchConfig) -> dict[str, tuple[int, ...]]:
    stages, context = arch.bisenet_widths[:4], arch.bisenet_widths[4]
    layout = _conv("cp.resnet.conv1", stages[0], 3, 7) | _bn("cp.resnet.bn1", stages[0])
    c_in = stages[0]
    for layer, width in enumerate(stages, start=1):
        for b in range(2):
            block, block_in = f"cp.resnet.layer{layer}.{b}", c_in if b == 0 else width
            layout |= (_conv(f"{block}.conv1", width, block_in, 3) | _bn(f"{block}.bn1", width)
                       | _conv(f"{block}.conv2", width, width, 3) | _bn(f"{block}.bn2", width))
            if b == 0 and layer > 1:  # stride 2 and a new width: a projection shortcut
                layout |= _conv(f"{block}.downsample.0", width, block_in, 1) | _bn(f"{block}.downsample.1", width)
        c_in = width
    for name, width in (("arm16", stages[2]), ("arm32", stages[3])):
        layout |= (_conv_bn_relu(f"cp.{name}.conv", context, width) | _conv(f"cp.{name}.conv_atten", context, context, 1)
                   | _bn(f"cp.{name}.bn_atten", context))
    layout |= (_conv_bn_relu("cp.conv_head32", context, context) | _conv_bn_relu("cp.conv_head16", context, context)
               | _conv_bn_relu("cp.conv_avg", context, stages[3], 1))
    fused = stages[1] + context
    layout |= (_conv_bn_relu("ffm.convblk", fused, fused, 1) | _conv("ffm.conv1", fused // 4, fused, 1)
               | _conv("ffm.conv2", fused, fused // 4, 1))
    for name, c_in_out, c_mid in (("conv_out", fused, fused), ("conv_out16", context, context // 2),
                                  ("conv_out32", context, context // 2)):
        layout |= _conv_bn_relu(f"{name}.conv", c_mid, c_in_out) | _conv(f"{name}.conv_out", PARSING_CLASSES, c_mid, 1)
    return layout


def write_facexlib(folder: Path, arch: ArchConfig, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    detection = random_state(retinaface_layout(arch), seed)
    torch.save({f"module.{k}": v for k, v in detection.items()}, folder / "detection_Resnet50_Final.pth")
    torch.save(random_state(bisenet_layout(arch), seed + 1), folder / "parsing_bisenet.pth")
    return folder
