"""Tiny-random edge detectors for the tiny bundle: seeded weights loaded through the same strict path as the
published files (the fixture writers in published/controlnet_aux.py save these very tensors)."""

import torch

from ..published.random_weights import random_state
from .edge_graph import HedEdgeGraph, PidiNetEdgeGraph
from .hed import TINY_HED, ControlNetHed, HedConfig, build_hed
from .pidinet import TINY_PIDINET, PiDiNet, PidiNetConfig, build_pidinet


def random_pidinet_state(config: PidiNetConfig, seed: int) -> dict[str, torch.Tensor]:
    return random_state({k: tuple(v.shape) for k, v in PiDiNet(config).state_dict().items()}, seed)


def random_hed_state(config: HedConfig, seed: int) -> dict[str, torch.Tensor]:
    """Unit-gain kernels on RGB in 0..255 give projections in the hundreds, a saturated sigmoid and an edge map of
    0s and 1s that would test little: `norm` (an offset in 0..255 units) centres the input and the projections
    are scaled down so the tiny edge map spreads over (0, 1)."""
    state = random_state({k: tuple(v.shape) for k, v in ControlNetHed(config).state_dict().items()}, seed)
    generator = torch.Generator().manual_seed(seed)
    state["norm"] = 96.0 + 64.0 * torch.rand(state["norm"].shape, generator=generator)
    for key in state:
        if key.endswith("projection.weight"):
            state[key] = state[key] / 64.0
    return state


def tiny_random_pidinet(seed: int = 0, config: PidiNetConfig = TINY_PIDINET) -> PidiNetEdgeGraph:
    return PidiNetEdgeGraph(build_pidinet(random_pidinet_state(config, seed), f"tiny-random pidinet (seed {seed})", config))


def tiny_random_hed(seed: int = 0, config: HedConfig = TINY_HED) -> HedEdgeGraph:
    # float16 first, as the published file stores it, so tiny bundle and fixture hold the same values.
    state = {k: v.half() for k, v in random_hed_state(config, seed).items()}
    return HedEdgeGraph(build_hed(state, f"tiny-random hed (seed {seed})", config))
