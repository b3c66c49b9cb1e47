"""The tiny bundle's soft-edge detectors `pidinet` and `hed`: controlnet_aux's architectures at tiny width with
seeded random weights (annotators/tiny.py), their last layer given a power-of-two gain so the edge maps are not
constant, exported and verified by annotators/edge_graph.py."""

import time
from pathlib import Path

import torch
from torch import nn

from ..annotators import edge_graph_spec, export_edge_onnx, tiny_random_hed, tiny_random_pidinet
from ..onnx_export import OPSET

# annotators/tiny.py's own seed, which gpu-function/test/goldens/softedge/make_goldens.py uses for the TypeScript
# detector goldens ("the seed the tiny bundle's detectors use"): the bundle's graphs are the goldens' graphs. No other
# component of the tiny bundle draws from it (components.py uses seed + 1 .. seed + 12), and random_state draws from a
# generator of its own, so every other graph and reference stays bit-identical.
DETECTOR_SEED_OFFSET = 0
# With unit-gain random weights the maps span only about 0.41..0.61 (pidinet) and 0.49..0.53 (hed) on a photo: one or
# two dozen uint8 levels. Multiplying the last layer's weights and bias by a power of two multiplies every logit by it
# exactly (each product and partial sum scales without a new rounding), so the maps spread over about 0.03..0.97 on
# chelsea.png; the same gains as make_goldens.py's LOGIT_GAIN, so the graphs stay the goldens'.
LOGIT_GAIN = {"pidinet": 8.0, "hed": 32.0}
EDGE_DETECTOR_SOURCE = "tiny-random"
_ARCHITECTURE = {"pidinet": "PiDiNet (carv4, sa, dil)", "hed": "ControlNetHED_Apache2"}


def _last_layers(name: str, graph: nn.Module) -> list[nn.Conv2d]:
    """The layers whose outputs are the logits the final sigmoid sees: PiDiNet's fused classifier, HED's five
    projections (averaged after resizing, which is linear, so scaling each scales the average)."""
    if name == "pidinet":
        return [graph.net.classifier]
    return [module for key, module in graph.net.named_modules() if key.endswith("projection")]


def with_logit_gain(name: str, graph: nn.Module) -> nn.Module:
    with torch.no_grad():
        for layer in _last_layers(name, graph):
            layer.weight.mul_(LOGIT_GAIN[name])
            layer.bias.mul_(LOGIT_GAIN[name])
    return graph


def build_tiny_edge_detectors(seed: int = 0) -> dict[str, nn.Module]:
    """{"pidinet": graph, "hed": graph}. Building a module initialises it from torch's global generator before the
    seeded state replaces its weights; fork_rng puts that generator back, so whatever draws from it later (nothing
    today) sees the state it saw before the detectors existed."""
    with torch.random.fork_rng():
        detector_seed = seed + DETECTOR_SEED_OFFSET
        return {"pidinet": with_logit_gain("pidinet", tiny_random_pidinet(detector_seed)),
                "hed": with_logit_gain("hed", tiny_random_hed(detector_seed))}


def export_tiny_edge_detectors(detectors: dict[str, nn.Module], out_dir: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """Write graphs/pidinet.onnx and graphs/hed.onnx, each verified against torch within its derived bound.
    Returns (the manifest's graph entries, its `edge_detectors` section)."""
    graphs, section = {}, {}
    with torch.random.fork_rng():
        for name, graph in detectors.items():
            started = time.monotonic()
            spec = edge_graph_spec(name, [EDGE_DETECTOR_SOURCE])
            _, error, bound = export_edge_onnx(graph, spec, out_dir)
            graphs[name] = spec.to_manifest(OPSET, [])
            section[name] = {"graph": name, "source": EDGE_DETECTOR_SOURCE,
                             "notes": f"FIXTURE: controlnet_aux's {_ARCHITECTURE[name]} at tiny width, seeded random "
                                      f"weights, last layer x{LOGIT_GAIN[name]:g} so the map is not constant; its "
                                      "edges mean nothing"}
            print(f"  {name}: {time.monotonic() - started:.1f} s; |onnxruntime - torch| {error:.3g} <= {bound:.3g}")
    return graphs, section

