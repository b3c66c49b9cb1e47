"""facexlib's RetinaFace (ResNet-50 body, FPN, SSH, heads) with configurable widths.

Tensor names follow facexlib's `detection_Resnet50_Final.pth` (torchvision
ResNet-50 under `body.`). Output as facexlib's test phase: loc [B,P,4],
conf [B,P,2] softmaxed, landms [B,P,10]; priors are built by the caller.
No bundle graph: only the EVA-crop measurement (infra/bench/eva_crop_landmarks.py) runs it.
"""

import torch
import torch.nn.functional as F
from torch import nn


def _conv_bn(c_in, c_out, kernel=3, stride=1, leaky=None) -> nn.Sequential:
    layers = [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(c_out)]
    if leaky is not None:
        layers.append(nn.LeakyReLU(negative_slope=leaky))
    return nn.Sequential(*layers)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int):
        super().__init__()
        c_out = planes * self.expansion
        self.conv1 = nn.Conv2d(c_in, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet50Body(nn.Module):
    def __init__(self, stem: int, planes: tuple[int, ...], blocks: tuple[int, ...]):
        super().__init__()
        self.conv1 = nn.Conv2d(3, stem, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        c_in = stem
        for i, (p, n) in enumerate(zip(planes, blocks)):
            stride = 1 if i == 0 else 2
            layer = [Bottleneck(c_in, p, stride)] + [Bottleneck(p * 4, p, 1) for _ in range(n - 1)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*layer))
            c_in = p * 4

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        c2 = self.layer2(self.layer1(x))
        c3 = self.layer3(c2)
        return c2, c3, self.layer4(c3)


class Fpn(nn.Module):
    def __init__(self, ins: tuple[int, ...], out: int):
        super().__init__()
        leaky = 0.1 if out <= 64 else 0.0
        self.output1 = _conv_bn(ins[0], out, 1, leaky=leaky)
        self.output2 = _conv_bn(ins[1], out, 1, leaky=leaky)
        self.output3 = _conv_bn(ins[2], out, 1, leaky=leaky)
        self.merge1 = _conv_bn(out, out, leaky=leaky)
        self.merge2 = _conv_bn(out, out, leaky=leaky)

    def forward(self, c2, c3, c4):
        o3 = self.output3(c4)
        o2 = self.merge2(self.output2(c3) + F.interpolate(o3, size=c3.shape[2:], mode="nearest"))
        o1 = self.merge1(self.output1(c2) + F.interpolate(o2, size=c2.shape[2:], mode="nearest"))
        return o1, o2, o3


class Ssh(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        leaky = 0.1 if c <= 64 else 0.0
        self.conv3X3 = _conv_bn(c, c // 2)
        self.conv5X5_1 = _conv_bn(c, c // 4, leaky=leaky)
        self.conv5X5_2 = _conv_bn(c // 4, c // 4)
        self.conv7X7_2 = _conv_bn(c // 4, c // 4, leaky=leaky)
        self.conv7x7_3 = _conv_bn(c // 4, c // 4)

    def forward(self, x):
        branch5 = self.conv5X5_1(x)
        return F.relu(torch.cat([self.conv3X3(x), self.conv5X5_2(branch5), self.conv7x7_3(self.conv7X7_2(branch5))], dim=1))


class _Head(nn.Module):
    def __init__(self, c: int, values: int, anchors: int = 2):
        super().__init__()
        self.values = values
        self.conv1x1 = nn.Conv2d(c, anchors * values, 1)

    def forward(self, x):
        out = self.conv1x1(x).permute(0, 2, 3, 1)
        return out.reshape(out.shape[0], -1, self.values)


class RetinaFace(nn.Module):
    def __init__(self, widths: tuple[int, ...], blocks: tuple[int, ...]):
        super().__init__()
        stem, planes, fpn = widths[0], tuple(widths[1:5]), widths[5]
        self.body = ResNet50Body(stem, planes, blocks)
        self.fpn = Fpn(tuple(p * 4 for p in planes[1:]), fpn)
        self.ssh1, self.ssh2, self.ssh3 = Ssh(fpn), Ssh(fpn), Ssh(fpn)
        self.ClassHead = nn.ModuleList(_Head(fpn, 2) for _ in range(3))
        self.BboxHead = nn.ModuleList(_Head(fpn, 4) for _ in range(3))
        self.LandmarkHead = nn.ModuleList(_Head(fpn, 10) for _ in range(3))

    def forward(self, bgr_minus_mean):
        features = [ssh(f) for ssh, f in zip((self.ssh1, self.ssh2, self.ssh3), self.fpn(*self.body(bgr_minus_mean)))]
        loc = torch.cat([h(f) for h, f in zip(self.BboxHead, features)], dim=1)
        conf = torch.cat([h(f) for h, f in zip(self.ClassHead, features)], dim=1)
        landms = torch.cat([h(f) for h, f in zip(self.LandmarkHead, features)], dim=1)
        return loc, F.softmax(conf, dim=-1), landms
