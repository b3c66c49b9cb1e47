"""Raw little-endian tensors plus a JSON index: a format both Python and TypeScript read without libraries."""

import hashlib
import json
from pathlib import Path

import numpy as np

_DTYPES = {"float32": "<f4", "uint8": "u1", "int64": "<i8", "int32": "<i4"}


def write_raw(path: Path, array: np.ndarray) -> dict:
    """Write `array` as raw bytes; return its index entry (file relative to path's parent)."""
    dtype = str(array.dtype)
    if dtype not in _DTYPES:
        raise ValueError(f"{path.name}: unsupported dtype {dtype}")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.ascontiguousarray(array, dtype=_DTYPES[dtype]).tobytes()
    path.write_bytes(data)
    return {"dtype": dtype, "shape": list(array.shape)}


def read_raw(path: Path, dtype: str, shape: list[int]) -> np.ndarray:
    return np.frombuffer(path.read_bytes(), dtype=_DTYPES[dtype]).reshape(shape)


def write_json(path: Path, value) -> None:
    """Stable JSON (sorted keys, trailing newline) so rebuilds are byte-identical."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
