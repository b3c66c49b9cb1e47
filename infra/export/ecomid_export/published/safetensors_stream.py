"""The safetensors format written one tensor at a time, for files too large to hold twice in memory
(safetensors' own save_file takes the whole dict and copies every tensor into one buffer first).

The format (huggingface/safetensors README, "Format"): an 8-byte little-endian header length N, N bytes of JSON
({name: {dtype, shape, data_offsets}} and "__metadata__"), padded with spaces to a multiple of 8, then the
tensors' bytes back to back in the order the library writes them (its Dtype enum's order, last first, then
by name). tests/test_published_layouts.py checks the bytes against save_file's.
"""

import json
import math
import struct
from collections.abc import Callable
from pathlib import Path

import torch

# Position in safetensors' Dtype enum (safetensors/src/tensor.rs), which orders the data.
DTYPE_RANK = {"BOOL": 0, "U8": 1, "I8": 2, "I16": 3, "F16": 4, "BF16": 5, "I32": 6, "F32": 7, "F64": 8, "I64": 9}
DTYPE_NAMES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
               torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
               torch.bool: "BOOL"}


def write_safetensors(path: Path, layout: dict[str, tuple[tuple[int, ...], torch.dtype]],
                      make: Callable[[str], torch.Tensor], metadata: dict[str, str] | None = None) -> Path:
    """`layout`: name -> (shape, dtype); `make(name)` returns that tensor when its turn comes."""
    itemsize = {name: torch.empty((), dtype=dtype).element_size() for name, (_, dtype) in layout.items()}
    order = sorted(layout, key=lambda name: (-DTYPE_RANK[DTYPE_NAMES[layout[name][1]]], name))
    header, offset = {}, 0
    for name in order:
        shape, dtype = layout[name]
        size = math.prod(shape) * itemsize[name]
        header[name] = {"dtype": DTYPE_NAMES[dtype], "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    if metadata:
        header = {"__metadata__": metadata, **header}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for name in order:
            shape, dtype = layout[name]
            tensor = make(name).to(dtype).contiguous()
            if tuple(tensor.shape) != tuple(shape):
                raise ValueError(f"{name}: made {tuple(tensor.shape)}, layout says {tuple(shape)}")
            f.write(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return path


def layout_of(tensors: dict[str, torch.Tensor], dtype: torch.dtype | None = None) -> dict:
    """name -> (shape, dtype) of a state dict (meta tensors welcome); floats in `dtype` when given."""
    return {k: (tuple(v.shape), dtype if dtype is not None and v.is_floating_point() else v.dtype) for k, v in tensors.items()}
