"""Strict state-dict loading: any missing, unexpected or mis-shaped tensor stops the export."""

from collections.abc import Iterable, Mapping

import torch


class WeightMismatchError(ValueError):
    """Raised with every offending tensor named, so a wrong file is obvious at once."""


def load_strict(
    module: torch.nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    source: str,
    derived_keys: Iterable[str] = (),
) -> None:
    """Copy `state_dict` into `module`, refusing any difference in names or shapes.

    `derived_keys` are module buffers recomputed from the config (e.g. RoPE
    tables): they may be absent from the file, and are ignored when present.
    """
    derived = set(derived_keys)
    expected = {k: v for k, v in module.state_dict().items() if k not in derived}
    given = {k: v for k, v in state_dict.items() if k not in derived}
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    misshaped = sorted(
        f"{k}: file {tuple(given[k].shape)}, model {tuple(expected[k].shape)}"
        for k in set(expected) & set(given)
        if tuple(given[k].shape) != tuple(expected[k].shape)
    )
    problems = []
    if missing:
        problems.append(f"missing tensors: {_list(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors: {_list(unexpected)}")
    if misshaped:
        problems.append(f"mis-shaped tensors: {_list(misshaped)}")
    if problems:
        raise WeightMismatchError(f"{source} does not match {type(module).__name__}: " + "; ".join(problems))
    module.load_state_dict(given, strict=False)


def _list(items: list[str], limit: int = 12) -> str:
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} (and {len(items) - limit} more)"


def take_prefix(state_dict: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors under `prefix`, with the prefix removed."""
    return {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
