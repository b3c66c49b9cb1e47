"""Reading published weight files: safetensors (single or sharded with an index), or pickled torch files."""

import json
import mmap
import struct
from pathlib import Path

import torch


LFS_POINTER_PREFIX = b"version https://git-lfs"
# safetensors' dtype names (the format's header) -> torch.
SAFETENSORS_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
                      "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
                      "BOOL": torch.bool}
# What diffusers and transformers name a component's weights, preferred first; each may be sharded, with
# `<name>.index.json` mapping every tensor to its shard (diffusers' and transformers' `save_pretrained`).
COMPONENT_WEIGHT_NAMES = ("diffusion_pytorch_model.safetensors", "model.safetensors",
                          "diffusion_pytorch_model.fp16.safetensors", "model.fp16.safetensors")


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Every tensor of one file. Pickles load with weights_only: never execute code from a downloaded file."""
    if not path.is_file():
        raise FileNotFoundError(f"weight file not found: {path}")
    with path.open("rb") as f:
        if f.read(len(LFS_POINTER_PREFIX)) == LFS_POINTER_PREFIX:
            # A common setup failure with these models: the repository was cloned without git-lfs.
            raise ValueError(f"{path} is a Git LFS pointer, not the weights: fetch it with `git lfs pull` or download the file")
    if path.suffix == ".safetensors":
        return mapped_safetensors(path)
    try:  # zip-format pickles (torch >= 1.6) map their storages too
        data = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError:  # the legacy format cannot be mapped
        data = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(data, dict) and "state_dict" in data and isinstance(data["state_dict"], dict):
        data = data["state_dict"]
    return data


def mapped_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Every tensor of a .safetensors file as a view of the file mapped copy-on-write: nothing is read until a
    tensor is used, and what is read stays page cache the kernel may drop, so a 7 GB checkpoint costs no
    memory of its own (the format: an 8-byte little-endian header length, a JSON header, then the data)."""
    with path.open("rb") as f:
        (header_length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_length))
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    start = 8 + header_length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = SAFETENSORS_DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        count = (end - begin) // torch.empty((), dtype=dtype).element_size()
        flat = torch.frombuffer(mapped, dtype=dtype, count=count, offset=start + begin) if count else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"])
    return tensors


def read_component(folder: Path) -> dict[str, torch.Tensor]:
    """A diffusers/transformers component folder's weights (unet/, vae/, text_encoder/, a ControlNet folder)."""
    for name in COMPONENT_WEIGHT_NAMES:
        index = folder / f"{name}.index.json"
        if index.is_file():
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
            tensors = {}
            for shard in shards:
                tensors.update(read_tensors(folder / shard))
            return tensors
        if (folder / name).is_file():
            return read_tensors(folder / name)
    found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else "no such folder"
    raise FileNotFoundError(f"no weights in {folder}: expected one of {', '.join(COMPONENT_WEIGHT_NAMES)} "
                            f"(or its .index.json with shards); found {found}")


def strip_prefix(tensors: dict, prefix: str) -> dict:
    """Remove a prefix every key carries (e.g. `module.` from DataParallel checkpoints)."""
    if tensors and all(k.startswith(prefix) for k in tensors):
        return {k[len(prefix):]: v for k, v in tensors.items()}
    return tensors
