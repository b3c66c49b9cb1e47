"""Soft-edge detectors for the EcomXL Softedge ControlNet, as controlnet_aux runs them (PidiNet by default, HED as
an option; https://huggingface.co/alimama-creative/EcomXL_controlnet_softedge imports both from controlnet_aux).

API for the bundle build:
- real mode: load_pidinet_checkpoint(path) / load_hed_checkpoint(path) -> strict-loaded network;
  PidiNetEdgeGraph(net) / HedEdgeGraph(net) -> the graph module; edge_graph_spec("pidinet" | "hed", sources)
  -> its GraphSpec; export_edge_onnx(graph, spec, out_dir) -> (file, error, bound), verified against torch.
- tiny mode: tiny_random_pidinet(seed) / tiny_random_hed(seed) -> the graph module at tiny widths.
- reference: reference_edge_map(rgb_uint8, torch_edge_function(graph), detect_resolution, image_resolution, safe)
  -> controlnet_aux's uint8 edge map, every step documented for the TypeScript side.
"""

from .edge_graph import HedEdgeGraph, PidiNetEdgeGraph, edge_graph_spec, export_edge_onnx
from .hed import CONTROLNET_HED, TINY_HED, ControlNetHed, build_hed, load_hed_checkpoint
from .pidinet import TABLE5_PIDINET, TINY_PIDINET, PiDiNet, build_pidinet, load_pidinet_checkpoint
from .reference import onnx_edge_function, reference_edge_map, torch_edge_function
from .tiny import tiny_random_hed, tiny_random_pidinet

__all__ = [
    "CONTROLNET_HED", "TABLE5_PIDINET", "TINY_HED", "TINY_PIDINET", "ControlNetHed", "HedEdgeGraph", "PiDiNet",
    "PidiNetEdgeGraph", "build_hed", "build_pidinet", "edge_graph_spec", "export_edge_onnx", "load_hed_checkpoint",
    "load_pidinet_checkpoint", "onnx_edge_function", "reference_edge_map", "tiny_random_hed", "tiny_random_pidinet",
    "torch_edge_function",
]
