"""Helpers for the per-graph input makers."""

import torch


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(shape, seed_gen: torch.Generator, scale: float = 1.0) -> torch.Tensor:
    return torch.randn(shape, generator=seed_gen) * scale


def rand(shape, seed_gen: torch.Generator, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=seed_gen)
