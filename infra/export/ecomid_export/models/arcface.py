"""A ResNet-shaped face embedder for the tiny bundle: [N,3,112,112] -> [N,512].

The real bundle copies antelopev2's `glintr100.onnx` as is; this stands in for
it with the same input/output contract (insightface IResNet block layout:
BN-conv-BN-PReLU-conv-BN, then BN-flatten-FC-BN).
"""

from torch import nn


class IBasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(c_in), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out), nn.PReLU(c_out),
            nn.Conv2d(c_out, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out),
        )
        self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return self.body(x) + self.downsample(x)


class ArcFaceResNet(nn.Module):
    def __init__(self, widths: tuple[int, ...], embedding_dim: int = 512):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.PReLU(widths[0]))
        ins = (widths[0], *widths[:-1])
        self.stages = nn.Sequential(*(IBasicBlock(a, b, 2) for a, b in zip(ins, widths)))  # 112 -> 7 after 4 stages
        side = 112 // 2 ** len(widths)
        self.bn2 = nn.BatchNorm2d(widths[-1])
        self.fc = nn.Linear(widths[-1] * side * side, embedding_dim)
        self.features = nn.BatchNorm1d(embedding_dim)

    def forward(self, x):
        return self.features(self.fc(self.bn2(self.stages(self.stem(x))).flatten(1)))
