"""Modules allocated straight in their final dtype, for weights that are loaded whole right after."""

import torch


def materialized(build, dtype: torch.dtype) -> torch.nn.Module:
    """`build()` on the meta device, then given uninitialised memory in `dtype`: no fp32 copy ever exists, and
    strict loading must then fill every tensor. Refused for modules with buffers no file holds (they would
    stay uninitialised)."""
    with torch.device("meta"):
        module = build()
    persistent = set(module.state_dict())
    loose = [name for name, _ in module.named_buffers() if name not in persistent]
    if loose:
        raise ValueError(f"{type(module).__name__} has buffers no checkpoint fills ({loose[:3]}): build it on the CPU")
    return module.to(dtype).to_empty(device="cpu")
