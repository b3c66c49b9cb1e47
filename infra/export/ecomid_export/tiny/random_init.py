"""Seeded random weights that exercise every path of a graph."""

import torch
from torch import nn


def enliven(module: nn.Module, generator: torch.Generator, scale: float = 0.05) -> nn.Module:
    """Give zero-initialised weight tensors (ControlNet zero convs, EVA q/v biases) small random values,
    and BatchNorm random running statistics, so no branch of the graph is a silent identity."""
    with torch.no_grad():
        for _, p in module.named_parameters():
            if (p == 0).all():
                p.copy_(torch.randn(p.shape, generator=generator) * scale)
        for m in module.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=generator) * 0.1)
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=generator))
    return module.eval()
