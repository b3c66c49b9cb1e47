"""Real mode's soft-edge detectors: lllyasviel/Annotators' table5_pidinet.pth (--pidinet) and ControlNetHED.pth
(--hed), loaded strictly as controlnet_aux loads them, exported as the `pidinet` / `hed` graphs (verified against
torch) and named in the manifest's `edge_detectors`. Either may be left out; a bundle without one refuses softedge
jobs that ask for it (capability_not_supported) and still takes edge maps."""

import time
from pathlib import Path

from ..annotators import (CONTROLNET_HED, TABLE5_PIDINET, TINY_HED, TINY_PIDINET, HedEdgeGraph, PidiNetEdgeGraph,
                          edge_graph_spec, export_edge_onnx, load_hed_checkpoint, load_pidinet_checkpoint)
from ..config import REAL, TINY, ArchConfig
from ..onnx_export import OPSET

# licences.py keys: PiDiNet's weights are for research (its authors ask to be contacted for commercial use).
DETECTOR_SOURCES = {"pidinet": "pidinet", "hed": "controlnet-hed"}
# The published files' widths; tests feed the same layouts at tiny widths (published/controlnet_aux.py).
_CONFIGS = {id(REAL): {"pidinet": TABLE5_PIDINET, "hed": CONTROLNET_HED}, id(TINY): {"pidinet": TINY_PIDINET, "hed": TINY_HED}}
_LOADERS = {"pidinet": (load_pidinet_checkpoint, PidiNetEdgeGraph), "hed": (load_hed_checkpoint, HedEdgeGraph)}


def export_real_edge_detectors(args, arch: ArchConfig, out_dir: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """(the manifest's graph entries, its `edge_detectors` section) for the detectors given on the command line."""
    graphs, section = {}, {}
    for name, (load, wrap) in _LOADERS.items():
        path = getattr(args, name, None)
        if path is None:
            continue
        started = time.monotonic()
        graph = wrap(load(path, _CONFIGS[id(arch)][name]))
        spec = edge_graph_spec(name, [DETECTOR_SOURCES[name]])
        _, error, bound = export_edge_onnx(graph, spec, out_dir)
        graphs[name] = spec.to_manifest(OPSET, [])
        section[name] = {"graph": name, "source": DETECTOR_SOURCES[name]}
        print(f"  {name}: {time.monotonic() - started:.1f} s; |onnxruntime - torch| {error:.3g} <= {bound:.3g}")
    return graphs, section
