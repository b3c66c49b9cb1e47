"""Seeded random tensors for hand-written layouts, scaled so a random network stays finite in fp16."""

import math

import torch


def random_tensor(key: str, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """What a trained file holds under `key`, in kind though not in value: BatchNorm statistics positive,
    norm scales near 1, biases small, matrices and kernels with unit gain (1 / sqrt(fan-in))."""
    if key.endswith("num_batches_tracked"):
        return torch.tensor(0, dtype=torch.int64)
    if key.endswith("running_var"):
        return 0.5 + torch.rand(shape, generator=generator)
    if key.endswith("running_mean"):
        return 0.1 * torch.randn(shape, generator=generator)
    if len(shape) <= 1:
        base = 1.0 if key.endswith("weight") else 0.0  # a 1-D weight is a norm's (or PReLU's) scale
        return base + 0.02 * torch.randn(shape, generator=generator)
    fan_in = math.prod(shape[1:])
    return torch.randn(shape, generator=generator) / math.sqrt(fan_in)


def random_state(layout: dict[str, tuple[int, ...]], seed: int, dtype: torch.dtype = torch.float32) -> dict:
    """{key: tensor} for a {key: shape} layout, floats in `dtype` (integer counters stay int64)."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in layout.items():
        value = random_tensor(key, tuple(shape), generator)
        state[key] = value if not value.is_floating_point() else value.to(dtype).contiguous()
    return state


def no_silent_zeros(module: torch.nn.Module, seed: int, scale: float = 0.05) -> torch.nn.Module:
    """Libraries zero-initialise some tensors (ControlNet zero convolutions): give them small random values,
    so a wrong key can't hide behind a zero that loads anywhere."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(module.named_parameters()):
            if (p == 0).all():
                p.copy_(torch.randn(p.shape, generator=generator) * scale)
    return module
