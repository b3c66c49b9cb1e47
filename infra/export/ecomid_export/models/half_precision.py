"""fp16 weights and compute behind fp32 inputs/outputs, so the manifest's I/O stays float32.

The fp32 islands (ID-attention projections and logits, the ortho
divisions, the Resampler softmax) cast to float inside the modules themselves,
so they stay fp32 in the exported graph.
"""

from torch import nn


class HalfPrecision(nn.Module):
    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module.half()

    def forward(self, *inputs):
        out = self.module(*(x.half() if x.is_floating_point() else x for x in inputs))
        return tuple(o.float() for o in out) if isinstance(out, (tuple, list)) else out.float()
