"""Reading published weight files: safetensors, or pickled torch files with tensors only."""

from pathlib import Path

import torch
from safetensors.torch import load_file


LFS_POINTER_PREFIX = b"version https://git-lfs"


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise FileNotFoundError(f"weight file not found: {path}")
    with path.open("rb") as f:
        if f.read(len(LFS_POINTER_PREFIX)) == LFS_POINTER_PREFIX:
            # A common setup failure (spec 8.6): the repository was cloned without git-lfs.
            raise ValueError(f"{path} is a Git LFS pointer, not the weights: fetch it with `git lfs pull` or download the file")
    if path.suffix == ".safetensors":
        return load_file(str(path))
    # weights_only: never execute code from a downloaded pickle.
    data = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(data, dict) and "state_dict" in data and isinstance(data["state_dict"], dict):
        data = data["state_dict"]
    return data


def strip_prefix(tensors: dict, prefix: str) -> dict:
    """Remove a prefix every key carries (e.g. `module.` from DataParallel checkpoints)."""
    if tensors and all(k.startswith(prefix) for k in tensors):
        return {k[len(prefix):]: v for k, v in tensors.items()}
    return tensors
