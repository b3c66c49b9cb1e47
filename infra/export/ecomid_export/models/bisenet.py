"""facexlib's BiSeNet face parser (ResNet-18 context path, 19 classes), widths configurable.

Tensor names follow facexlib's `parsing_bisenet.pth`. Only the main output is
used; the auxiliary heads exist so the checkpoint loads strictly.
"""

import torch
import torch.nn.functional as F
from torch import nn


class ConvBnRelu(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int = 3, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if c_in != c_out or stride != 1:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        residual = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(shortcut + residual)


class ResNet18(nn.Module):
    def __init__(self, widths: tuple[int, int, int, int]):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        ins = (widths[0], *widths[:-1])
        for i, (c_in, c_out) in enumerate(zip(ins, widths)):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(c_in, c_out, stride), BasicBlock(c_out, c_out, 1)))

    def forward(self, x):
        x = self.layer1(self.maxpool(F.relu(self.bn1(self.conv1(x)))))
        feat8 = self.layer2(x)
        feat16 = self.layer3(feat8)
        return feat8, feat16, self.layer4(feat16)


class AttentionRefinement(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv = ConvBnRelu(c_in, c_out)
        self.conv_atten = nn.Conv2d(c_out, c_out, 1, bias=False)
        self.bn_atten = nn.BatchNorm2d(c_out)

    def forward(self, x):
        feat = self.conv(x)
        return feat * torch.sigmoid(self.bn_atten(self.conv_atten(feat.mean(dim=(2, 3), keepdim=True))))


class ContextPath(nn.Module):
    def __init__(self, widths: tuple[int, int, int, int], context: int):
        super().__init__()
        self.resnet = ResNet18(widths)
        self.arm16 = AttentionRefinement(widths[2], context)
        self.arm32 = AttentionRefinement(widths[3], context)
        self.conv_head32 = ConvBnRelu(context, context)
        self.conv_head16 = ConvBnRelu(context, context)
        self.conv_avg = ConvBnRelu(widths[3], context, kernel=1)

    def forward(self, x):
        feat8, feat16, feat32 = self.resnet(x)
        global_context = self.conv_avg(feat32.mean(dim=(2, 3), keepdim=True))
        up32 = F.interpolate(self.arm32(feat32) + global_context, size=feat16.shape[2:], mode="nearest")
        up32 = self.conv_head32(up32)
        up16 = F.interpolate(self.arm16(feat16) + up32, size=feat8.shape[2:], mode="nearest")
        return feat8, self.conv_head16(up16), up32


class FeatureFusion(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.convblk = ConvBnRelu(c_in, c_out, kernel=1)
        self.conv1 = nn.Conv2d(c_out, c_out // 4, 1, bias=False)
        self.conv2 = nn.Conv2d(c_out // 4, c_out, 1, bias=False)

    def forward(self, spatial, context):
        feat = self.convblk(torch.cat([spatial, context], dim=1))
        attention = torch.sigmoid(self.conv2(F.relu(self.conv1(feat.mean(dim=(2, 3), keepdim=True)))))
        return feat * attention + feat


class BiSeNetOutput(nn.Module):
    def __init__(self, c_in: int, c_mid: int, num_class: int):
        super().__init__()
        self.conv = ConvBnRelu(c_in, c_mid)
        self.conv_out = nn.Conv2d(c_mid, num_class, 1, bias=False)

    def forward(self, x):
        return self.conv_out(self.conv(x))


class BiSeNet(nn.Module):
    """`widths` = ResNet-18 stage widths + context width; facexlib: (64, 128, 256, 512, 128)."""

    def __init__(self, widths: tuple[int, ...], num_class: int = 19):
        super().__init__()
        stages, context = tuple(widths[:4]), widths[4]
        fused = stages[1] + context
        self.cp = ContextPath(stages, context)
        self.ffm = FeatureFusion(fused, fused)
        self.conv_out = BiSeNetOutput(fused, fused, num_class)
        self.conv_out16 = BiSeNetOutput(context, context // 2, num_class)
        self.conv_out32 = BiSeNetOutput(context, context // 2, num_class)

    def forward(self, x):
        feat8, context8, _ = self.cp(x)
        logits = self.conv_out(self.ffm(feat8, context8))
        return F.interpolate(logits, size=x.shape[2:], mode="bilinear", align_corners=True)
