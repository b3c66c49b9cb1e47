"""antelopev2's SCRFD and ArcFace are published as ONNX: copied as is, their I/O read from the files."""

import re
import shutil
from pathlib import Path

import onnx

from ..graph_spec import TensorSpec
from ..onnx_export import _ONNX_DTYPES

FILES = {"scrfd": "scrfd_10g_bnkps.onnx", "arcface": "glintr100.onnx"}
NOTES = {
    "scrfd": "insightface antelopev2 SCRFD-10GF, copied as published (non-commercial research licence). "
             "Outputs: scores x3, boxes x3, keypoints x3 for strides 8/16/32, in this order.",
    "arcface": "insightface antelopev2 ArcFace R100 (Glint360K), copied as published (non-commercial research licence).",
}


def _dims(value) -> tuple:
    """Fixed sizes as they are; dynamic axes get a name unique to (tensor, axis) unless the file names them
    properly, so two unrelated axes never share a symbol by accident (the published files often say "?")."""
    dims = []
    for i, d in enumerate(value.type.tensor_type.shape.dim):
        if d.HasField("dim_value") and d.dim_value > 0:
            dims.append(d.dim_value)
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", d.dim_param or "") and d.dim_param.lower() != "none":
            dims.append(d.dim_param.lower())
        else:
            dims.append(re.sub(r"[^a-z0-9_]", "_", f"t_{value.name.lower()}_dim{i}"))  # names like "448" need the prefix
    return tuple(dims)


def copy_antelopev2(folder: Path, out_dir: Path, opset_fallback: int) -> dict[str, dict]:
    entries = {}
    for graph, file in FILES.items():
        source = folder / file
        if not source.is_file():
            raise FileNotFoundError(f"antelopev2: {source} not found")
        target = out_dir / "graphs" / f"{graph}.onnx"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        model = onnx.load(str(target), load_external_data=False)
        initializers = {i.name for i in model.graph.initializer}
        spec = lambda v: TensorSpec(v.name, _dims(v), _ONNX_DTYPES[v.type.tensor_type.elem_type]).to_manifest()  # noqa: E731
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), opset_fallback)
        entries[graph] = {
            "file": f"graphs/{graph}.onnx", "external_data": [],
            "inputs": [spec(v) for v in model.graph.input if v.name not in initializers],
            "outputs": [spec(v) for v in model.graph.output],
            "precision": "float32", "opset": opset, "sources": ["antelopev2"], "notes": NOTES[graph],
        }
    return entries
