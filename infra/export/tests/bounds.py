"""Assertions with float32's derived bounds (ecomid_export/float_error.py) for comparisons across implementations."""

import numpy as np

from ecomid_export.float_error import relative_bound


def assert_within(actual, expected, relative: float, what: str) -> None:
    """max |actual - expected| <= relative * max |expected| (at least 1: values near zero are not scaled up)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    error = float(np.abs(actual - expected).max(initial=0))
    scale = max(1.0, float(np.abs(expected).max(initial=0)))
    assert error <= relative * scale, f"{what}: max error {error:.3e} exceeds {relative:.2e} x {scale:.3g}"


def chain_bound(roundings: dict[str, dict], runs: dict[str, int], amplification: float = 1.0) -> float:
    """The bound for graphs run one after another, each `runs[graph]` times: their rounding counts add."""
    return relative_bound(sum(times * roundings[g]["roundings"] for g, times in runs.items()), amplification)
