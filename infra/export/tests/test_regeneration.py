"""Rebuilding the tiny bundle reproduces the committed files.

Expected bit for bit (one torch thread, fixed seeds; true on the machines we
have). A CPU with other SIMD kernels may round differently, so a file that is
not identical is accepted within a stated tolerance, and named in the output:
ONNX weights and float tensors within 1e-4 of their magnitude, images within
1 grey level, JSON equal once sha256/bytes of such files are set aside.

If this fails after an intentional change, rebuild the committed bundle:
    infra/export/.venv/bin/python -m ecomid_export --tiny-random --out bundles/tiny
"""

import filecmp
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from ecomid_export.__main__ import main

RELATIVE_TOLERANCE = 1e-4


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype == np.uint8:
        return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max(initial=0)) <= 1
    scale = max(1.0, float(np.abs(a).max(initial=0)))
    return bool(np.allclose(a, b, rtol=0, atol=RELATIVE_TOLERANCE * scale))


def _onnx_equivalent(a: Path, b: Path) -> bool:
    ga, gb = onnx.load(str(a)).graph, onnx.load(str(b)).graph
    if [n.op_type for n in ga.node] != [n.op_type for n in gb.node]:
        return False
    wa = {t.name: numpy_helper.to_array(t) for t in ga.initializer}
    wb = {t.name: numpy_helper.to_array(t) for t in gb.initializer}
    return wa.keys() == wb.keys() and all(_close(wa[k], wb[k]) for k in wa)


def _raw(path: Path, index: dict) -> np.ndarray:
    entry = next(e for e in index["tensors"].values() if e["file"] == path.name)
    dtype = {"float32": "<f4", "uint8": "u1"}[entry["dtype"]]
    return np.frombuffer(path.read_bytes(), dtype=dtype).reshape(entry["shape"])


def _without_hashes(manifest: dict) -> dict:
    return {**manifest, "files": [f["path"] for f in manifest["files"]]}


def test_tiny_bundle_and_references_rebuild(tmp_path, tiny_bundle, images_dir):
    assert main(["--tiny-random", "--out", str(tmp_path), "--images", str(images_dir)]) == 0
    assert _files(tmp_path) == _files(tiny_bundle)
    index = json.loads((tiny_bundle / "reference" / "index.json").read_text())
    differing = [f for f in _files(tiny_bundle) if not filecmp.cmp(tmp_path / f, tiny_bundle / f, shallow=False)]
    print(f"rebuilt tiny bundle: {len(differing)} files not bit-identical: {differing}")
    for f in differing:
        new, old = tmp_path / f, tiny_bundle / f
        if f.endswith(".onnx"):
            assert _onnx_equivalent(new, old), f
        elif f.endswith((".f32", ".u8")) and f.startswith("reference/"):
            assert _close(_raw(new, index), _raw(old, index)), f
        elif f.endswith(".f32"):
            assert _close(np.fromfile(new, "<f4"), np.fromfile(old, "<f4")), f
        elif f == "manifest.json":
            assert _without_hashes(json.loads(new.read_text())) == _without_hashes(json.loads(old.read_text()))
        else:
            raise AssertionError(f"{f} differs")


def test_tolerance_accepts_rounding_and_refuses_real_changes():
    x = np.linspace(-20, 20, 101, dtype=np.float32)
    assert _close(x, x + 1e-3) and not _close(x, x + 1e-2)
    image = np.full((4, 4, 3), 100, np.uint8)
    assert _close(image, image + 1) and not _close(image, image + 2)


def test_onnx_comparison_sees_a_changed_weight(tmp_path, tiny_bundle):
    model = onnx.load(str(tiny_bundle / "graphs" / "resampler.onnx"))
    weight = model.graph.initializer[0]
    changed = numpy_helper.to_array(weight).copy()
    changed.flat[0] += 1.0
    weight.CopyFrom(numpy_helper.from_array(changed, weight.name))
    onnx.save(model, str(tmp_path / "changed.onnx"))
    original = tiny_bundle / "graphs" / "resampler.onnx"
    assert _onnx_equivalent(original, original)
    assert not _onnx_equivalent(tmp_path / "changed.onnx", original)
