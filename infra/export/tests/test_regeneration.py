"""Rebuilding the tiny bundle: reproducible by construction, and judged by what matters where bits differ.

By construction: `python -m ecomid_export --tiny-random` runs PyTorch's AVX2 kernels on every CPU, one thread,
fixed seeds (ecomid_export/cpu_kernels.py), so a rebuild on an AVX-512 machine is bit-identical to the committed
bundle. The test prints the files that are not. Should a CPU or library still round otherwise (another BLAS
blocking), the rebuild must still:
- carry the committed seeded random weights in every graph but the fitted detector, within RANDN_ULPS;
- keep the fixture's promise with its own fitted detector and give references that agree with its own graphs:
  test_tiny_bundle.py runs every check on the committed and on the rebuilt bundle;
- hold the committed constants within float32's bound for the graph that computed them;
- describe itself alike: manifest and reference index equal but for the hashes of files that may differ.

If this fails after an intentional change, rebuild the committed bundle:
    infra/export/.venv/bin/python -m ecomid_export --tiny-random --out bundles/tiny
"""

import filecmp
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from bounds import assert_within
from ecomid_export.float_error import FLOAT32_UNIT_ROUNDOFF, relative_bound

# Weights from randn (Box-Muller: sqrt(-2 log u) * cos(2 pi v), then scaled) and the few constants the exporter
# folds (sqrt, exp of time-embedding frequencies): a handful of library kernels, each within 1 to 4 ulp.
RANDN_ULPS = 16
# Fitted by gradient descent: judged by behaviour (test_tiny_bundle.py), never by their weights.
FITTED_GRAPHS = {"graphs/scrfd.onnx"}
# Each constant and the graph whose forward pass computed it.
CONSTANT_GRAPHS = {"constants/uncond_id_tokens.f32": "id_encoder", "constants/uncond_resampler_tokens.f32": "resampler"}


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _weights(path: Path) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}


def _same_graph_and_weights(new: Path, old: Path) -> None:
    ga, gb = onnx.load(str(new)).graph, onnx.load(str(old)).graph
    assert [n.op_type for n in ga.node] == [n.op_type for n in gb.node], f"{new.name}: other operators"
    wa, wb = _weights(new), _weights(old)
    assert wa.keys() == wb.keys(), f"{new.name}: other initializers"
    for name in wa:
        assert_within(wa[name], wb[name], RANDN_ULPS * FLOAT32_UNIT_ROUNDOFF, f"{new.name}:{name}")


def _close_json(a, b, path: str = "") -> None:
    """Equal JSON, except floats within RANDN_ULPS (schedules: float32 values of diffusers' own sqrt/log/exp)."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), f"{path}: {a!r} != {b!r}"
        assert abs(a - b) <= RANDN_ULPS * FLOAT32_UNIT_ROUNDOFF * max(1.0, abs(b)), f"{path}: {a} != {b}"
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            _close_json(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            _close_json(x, y, f"{path}/{i}")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def _without_hashes(manifest: dict) -> dict:
    return {**manifest, "files": [f["path"] for f in manifest["files"]]}


def test_rebuild_is_the_committed_bundle_by_construction_or_by_what_matters(rebuilt_tiny_bundle, tiny_bundle):
    new_dir, old_dir = rebuilt_tiny_bundle, tiny_bundle
    assert _files(new_dir) == _files(old_dir)
    differing = [f for f in _files(old_dir) if not filecmp.cmp(new_dir / f, old_dir / f, shallow=False)]
    print(f"rebuilt tiny bundle: {len(differing)} files not bit-identical: {differing}")
    roundings = json.loads((old_dir / "reference" / "index.json").read_text())["arithmetic"]
    for f in differing:
        new, old = new_dir / f, old_dir / f
        if f in FITTED_GRAPHS or (f.startswith("reference/") and not f.endswith(".json")):
            continue  # behaviour and self-consistency: test_tiny_bundle.py on the rebuilt bundle
        if f.endswith(".onnx"):
            _same_graph_and_weights(new, old)
        elif f in CONSTANT_GRAPHS:
            bound = relative_bound(roundings[CONSTANT_GRAPHS[f]]["roundings"])
            assert_within(np.fromfile(new, "<f4"), np.fromfile(old, "<f4"), bound, f)
        elif f == "manifest.json":
            assert _without_hashes(json.loads(new.read_text())) == _without_hashes(json.loads(old.read_text()))
        elif f.endswith(".json"):
            _close_json(json.loads(new.read_text()), json.loads(old.read_text()), f)
        else:
            raise AssertionError(f"{f} differs")


def test_weight_comparison_sees_a_changed_weight(tmp_path, tiny_bundle):
    original = tiny_bundle / "graphs" / "resampler.onnx"
    model = onnx.load(str(original))
    weight = model.graph.initializer[0]
    changed = numpy_helper.to_array(weight).copy()
    changed.flat[0] += 1e-4 * max(1.0, float(np.abs(changed).max()))
    weight.CopyFrom(numpy_helper.from_array(changed, weight.name))
    onnx.save(model, str(tmp_path / "changed.onnx"))
    _same_graph_and_weights(original, original)
    try:
        _same_graph_and_weights(tmp_path / "changed.onnx", original)
    except AssertionError as refused:
        assert weight.name in str(refused)
    else:
        raise AssertionError("a weight moved by 1e-4 of its tensor's scale passed as a rounding difference")


def test_json_comparison_allows_float32_ulps_and_nothing_else():
    _close_json({"a": [1.0, 2.0]}, {"a": [1.0 + 1e-7, 2.0]})
    for changed in ({"a": [1.0 + 1e-5, 2.0]}, {"a": [1.0]}, {"b": [1.0, 2.0]}, {"a": [1.0, "2"]}):
        try:
            _close_json(changed, {"a": [1.0, 2.0]})
        except AssertionError:
            continue
        raise AssertionError(f"{changed} passed")
