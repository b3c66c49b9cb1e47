"""Goldens of the soft-edge detector pipeline (issue 14): controlnet_aux 0.0.10's PidiNetDetector / HEDdetector
__call__ (pidi/__init__.py, hed/__init__.py, util.py) as infra/export's annotators/reference.py repeats it, with
the network replaced by the tiny-random `pidinet` / `hed` graphs this script exports beside itself.

Run from the repository root with infra/export on the path (cv2, numpy, torch, onnx as pinned there):
    PYTHONPATH=infra/export infra/export/.venv/bin/python gpu-function/test/goldens/softedge/make_goldens.py
Writes pidinet.onnx, hed.onnx (the graphs as export_edge_onnx writes them into a bundle, verified against torch)
and softedge-goldens.json. Arrays are base64 of raw bytes (uint8 row-major, float32 little-endian), zlib-deflated
where they are whole edge maps (one channel: the three are equal); the detect-sized photo is stored as the SHA-256
of its bytes.

The reference edge maps come from the torch graph (what controlnet_aux computes: PidiNet bit for bit, HED up to
its float64 sigmoid, infra/export/README.md "Soft-edge detectors"); the TypeScript side runs the ONNX graph, so
each case also stores what its float error bound needs: the graph's rounding count at the case's size
(float_error.count_roundings) and the largest |logit| the final sigmoid sees on the case's input (logit_scale).
"""

import base64
import hashlib
import json
import shutil
import tempfile
import zlib
from pathlib import Path

import numpy as np
import onnx
import torch
from PIL import Image

from ecomid_export.annotators import edge_graph_spec, export_edge_onnx, reference_edge_map, tiny_random_hed, tiny_random_pidinet, torch_edge_function
from ecomid_export.annotators.edge_graph import logit_scale
from ecomid_export.annotators.reference import hwc3, resize_image, resized_shape, safe_step, to_uint8
from ecomid_export.float_error import count_roundings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
SEED = 0  # the seed the tiny bundle's detectors use (tiny.py defaults)
# The tiny seed's maps span only 0.41..0.61 (pidinet) and 0.49..0.53 (hed): safe_step would make them a constant
# 127 and most uint8 levels would never occur. The last layer's weights and bias are multiplied by a power of two,
# which multiplies every logit by it exactly (each product and partial sum scales without a new rounding), so
# the maps spread over about 0.03..0.97 and all of safe_step's classes occur.
LOGIT_GAIN = {"pidinet": 8.0, "hed": 32.0}
rng = np.random.default_rng(20261205)
b64 = lambda a: base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()  # noqa: E731
packed = lambda a: base64.b64encode(zlib.compress(np.ascontiguousarray(a).tobytes(), 9)).decode()  # noqa: E731
sha = lambda a: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()  # noqa: E731

# (photo, crop (x, y, w, h) or None, detect_resolution, image_resolution): each reaches a different branch.
# - chelsea 451x300 at 128: k < 1, INTER_AREA to 192x128; the output at 192: 4.5 tiles wide, a tie numpy rounds
#   to 4 (256 px) where Math.round gives 5.
# - a 160x120 crop at 120: k == 1, still INTER_AREA (not LANCZOS4); 2.5 tiles wide -> 2 (128 px).
# - a 96x64 crop at 128: k == 2, INTER_LANCZOS4; the output at 160 (k = 1.25, 2.5 tiles high -> 2) enlarges the map.
CASES = [
    ("chelsea", None, 128, 192),
    ("chelsea", (140, 80, 160, 120), 120, 64),
    ("chelsea", (200, 100, 96, 64), 128, 160),
]


def photo(name: str, crop) -> np.ndarray:
    rgb = np.array(Image.open(ROOT / "test" / "fixtures" / "images" / f"{name}.png").convert("RGB"))
    if crop is None:
        return rgb
    x, y, w, h = crop
    return np.ascontiguousarray(rgb[y:y + h, x:x + w])


def with_logit_gain(graph, name: str):
    last = [graph.net.classifier] if name == "pidinet" else [m for n, m in graph.net.named_modules() if n.endswith("projection")]
    with torch.no_grad():
        for layer in last:
            layer.weight.mul_(LOGIT_GAIN[name])
            layer.bias.mul_(LOGIT_GAIN[name])
    return graph


def export_graphs() -> dict:
    graphs = {"pidinet": with_logit_gain(tiny_random_pidinet(SEED), "pidinet"), "hed": with_logit_gain(tiny_random_hed(SEED), "hed")}
    with tempfile.TemporaryDirectory() as tmp:
        for name, graph in graphs.items():
            path, error, bound = export_edge_onnx(graph, edge_graph_spec(name, [f"tiny-random {name} (seed {SEED})"]), Path(tmp))
            print(f"{name}: exported, |onnx - torch| {error:.3g} <= bound {bound:.3g}")
            shutil.copyfile(path, HERE / f"{name}.onnx")
    return graphs


def detector_case(name: str, graph, case) -> dict:
    photo_name, crop, detect_resolution, image_resolution = case
    rgb = photo(photo_name, crop)
    sized = resize_image(hwc3(rgb), detect_resolution)
    pixels = np.ascontiguousarray((sized.astype(np.float32) / np.float32(255.0)).transpose(2, 0, 1)[None])
    edge = torch_edge_function(graph)(pixels)[0, 0]
    dims = {"height": sized.shape[0], "width": sized.shape[1]}
    outputs = []
    for safe in (False, True):
        detect_map = to_uint8(safe_step(edge) if safe else edge)
        final = reference_edge_map(rgb, torch_edge_function(graph), detect_resolution, image_resolution, safe)
        # The map is gray on three channels: one channel says it all.
        assert all(np.array_equal(final[:, :, 0], final[:, :, c]) for c in (1, 2))
        outputs.append({"safe": safe, "detectMap": packed(detect_map), "width": final.shape[1], "height": final.shape[0],
                        "edgeMap": packed(final[:, :, 0])})
    return {
        "detector": name, "photo": photo_name, "crop": crop, "detectResolution": detect_resolution,
        "imageResolution": image_resolution, "detectWidth": sized.shape[1], "detectHeight": sized.shape[0],
        "detectSizedSha256": sha(sized),
        "roundings": count_roundings(onnx.load(str(HERE / f"{name}.onnx")), dims).roundings,
        "logitScale": logit_scale(graph, {"image": torch.from_numpy(pixels)}),
        "outputs": outputs,
    }


def shape_cases() -> list[dict]:
    """resized_shape on sizes where numpy's ties-to-even matters, k == 1, and ordinary ones."""
    sizes = [(300, 451, 128), (120, 160, 120), (64, 96, 128), (128, 192, 192), (128, 192, 160), (100, 160, 100),
             (512, 512, 512), (300, 451, 512), (1024, 768, 512), (720, 1280, 512), (77, 333, 64), (480, 800, 384)]
    return [{"height": h, "width": w, "resolution": r, "out": list(resized_shape(h, w, r))} for h, w, r in sizes]


def rounding_cases() -> dict:
    """safe_step and to_uint8 on values where float32 products sit on or next to the truncation boundaries."""
    levels = np.arange(256, dtype=np.float32) / np.float32(255.0)
    thirds = np.array([1 / 3, 2 / 3, 1.0, 0.0], dtype=np.float32)
    near = np.concatenate([np.nextafter(levels, np.float32(0)), np.nextafter(levels, np.float32(2)),
                           np.nextafter(thirds, np.float32(0)), np.nextafter(thirds, np.float32(2))])
    values = np.concatenate([levels, thirds, near, rng.uniform(0, 1, 500).astype(np.float32)]).astype(np.float32)
    return {"edge": b64(values), "uint8": b64(to_uint8(values)), "safeUint8": b64(to_uint8(safe_step(values))),
            "pixels": b64(levels)}  # the graph's input: every uint8 / 255 in float32, as controlnet_aux divides


def main() -> None:
    graphs = export_graphs()
    cases = [detector_case(name, graph, case) for name, graph in graphs.items() for case in CASES]
    goldens = {"opencv": __import__("cv2").__version__, "numpy": np.__version__, "torch": torch.__version__,
               "seed": SEED, "logitGain": LOGIT_GAIN, "shapes": shape_cases(), "rounding": rounding_cases(), "cases": cases}
    (HERE / "softedge-goldens.json").write_text(json.dumps(goldens))


if __name__ == "__main__":
    main()
