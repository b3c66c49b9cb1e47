"""The edge-detector graphs `pidinet` and `hed`: input `image` float32 [1,3,H,W] RGB in [0,1] (uint8 / 255),
output `edge` float32 [1,1,H,W] in [0,1]. Each graph is the part of controlnet_aux's detector between its resize to
detect_resolution and its uint8 rounding (reference.py has the whole pipeline); H and W are free (resize_image
makes them multiples of 64 in controlnet_aux)."""

from dataclasses import replace
from pathlib import Path

import onnx
import torch
import torch.nn.functional as F
from torch import nn

from ..float_error import count_roundings, relative_bound
from ..graph_spec import GraphSpec, TensorSpec
from ..onnx_export import export_graph, verify_graph
from .hed import ControlNetHed
from .pidinet import PiDiNet

EDGE_INPUTS = [TensorSpec("image", (1, 3, "height", "width"))]
EDGE_OUTPUTS = [TensorSpec("edge", (1, 1, "height", "width"))]
# Non-square and not a power of two at verification, so a swapped or mis-scaled axis shows.
EXAMPLE_DIMS = {"height": 64, "width": 64}
VERIFY_DIMS = {"height": 128, "width": 192}


class PidiNetEdgeGraph(nn.Module):
    """controlnet_aux pidi/__init__.py: the network sees BGR (`input_image[:, :, ::-1]`) divided by 255, and the
    detector keeps its last (fused) sigmoid map. Reversing the channels here is exact."""

    def __init__(self, net: PiDiNet):
        super().__init__()
        self.net = net

    def logits(self, image: torch.Tensor) -> torch.Tensor:
        return self.net.logits(image.flip(1))[-1]

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(image))


class HedEdgeGraph(nn.Module):
    """controlnet_aux hed/__init__.py: the network sees RGB in 0..255 (uint8 as float, no /255); each projection is
    resized to the input's size with cv2.resize INTER_LINEAR (half-pixel centres, edge clamped: bilinear with
    align_corners=False here), the five are averaged and passed through a sigmoid (numpy float64 there, float32
    here). (u / 255) * 255 == u in float32 for every uint8 u, so the rescale is exact."""

    def __init__(self, net: ControlNetHed):
        super().__init__()
        self.net = net

    def logits(self, image: torch.Tensor) -> torch.Tensor:
        size = image.shape[2:]
        projections = self.net(image * 255.0)
        resized = [F.interpolate(p, size, mode="bilinear", align_corners=False) for p in projections]
        return torch.cat(resized, dim=1).mean(dim=1, keepdim=True)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(image))


def edge_graph_spec(detector: str, sources: list[str]) -> GraphSpec:
    if detector not in ("pidinet", "hed"):
        raise ValueError(f"unknown edge detector {detector!r}")
    return GraphSpec(name=detector, inputs=EDGE_INPUTS, outputs=EDGE_OUTPUTS, sources=sources,
                     notes="RGB uint8 / 255 in, edge probability out; resizing, safe_step and uint8 rounding outside "
                           "the graph as controlnet_aux does (infra/export/README.md, edge detectors)",
                     example_dims=EXAMPLE_DIMS, verify_dims=VERIFY_DIMS)


def random_edge_inputs(dims: dict[str, int], seed: int) -> dict[str, torch.Tensor]:
    """An image of uint8 levels / 255, as the pipeline feeds it."""
    generator = torch.Generator().manual_seed(seed)
    levels = torch.randint(0, 256, (1, 3, dims["height"], dims["width"]), generator=generator)
    return {"image": levels.float() / 255.0}


def logit_scale(graph: nn.Module, inputs: dict[str, torch.Tensor]) -> float:
    """max(1, the largest |logit| the graph's final sigmoid sees on `inputs`). float_error.py's bound holds relative
    to O(1) magnitudes; these networks are not normalised (HED sums RGB in 0..255 through 13 convolutions), so the
    logits' own magnitude is what their absolute rounding error scales with, and the sigmoid (slope <= 1/4) passes
    no more than that on to the edge."""
    with torch.no_grad():
        return max(1.0, float(graph.logits(*inputs.values()).abs().max()))


def export_edge_onnx(graph: nn.Module, spec: GraphSpec, out_dir: Path) -> tuple[Path, float, float]:
    """Write graphs/<name>.onnx under `out_dir` and check onnxruntime against torch on random images. The bound is
    float_error.py's for the graph's rounding count at VERIFY_DIMS, amplified by logit_scale (the output is
    in [0,1], so relative and absolute error coincide). Returns the file, the error found and the bound."""
    graph = graph.eval()
    path = export_graph(graph, spec, random_edge_inputs, out_dir)
    dims = spec.verify_dims or spec.example_dims
    roundings = count_roundings(onnx.load(str(path)), dims).roundings
    bound = relative_bound(roundings, amplification=logit_scale(graph, random_edge_inputs(dims, 1)))
    error = verify_graph(graph, replace(spec, tolerance=bound), random_edge_inputs, out_dir, seed=1)
    return path, error, bound
