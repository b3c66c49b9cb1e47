"""The If-gated denoiser: each extra ControlNet runs inside a branch that only a non-zero scale takes; off, the graph
gives exactly what the IdentityNet-only graph gives; on, what the ungated graph gives; its rounding count is the
ungated graph's."""

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from bounds import assert_within
from ecomid_export.config import TINY
from ecomid_export.controlnet_gates import gate_controlnets, scope_of
from ecomid_export.float_error import count_roundings, relative_bound
from ecomid_export.graphs.denoiser import denoiser_inputs, denoiser_spec
from ecomid_export.models.denoiser import Denoiser, build_identitynet, build_sdxl_controlnet, build_unet
from ecomid_export.onnx_export import export_graph
from ecomid_export.tiny.random_init import enliven

EXTRA = ["inpaint", "softedge"]
DIMS = {"batch": 2, "latent_height": 8, "latent_width": 8, "text_tokens": 77, "id_tokens": 18,
        "image_height": 64, "image_width": 64}


def _seeded(seed, build):
    torch.manual_seed(seed)
    return enliven(build(), torch.Generator().manual_seed(seed + 1000))


@pytest.fixture(scope="module")
def graphs(tmp_path_factory) -> dict[str, Path]:
    """The IdentityNet-only graph, and the two-ControlNet graph ungated and gated, from the same modules."""
    out = tmp_path_factory.mktemp("gates")
    denoiser = _seeded(3, lambda: Denoiser(build_unet(TINY), build_identitynet(TINY), TINY.cross_attention_dim))
    extra = {name: _seeded(11 + i, lambda: build_sdxl_controlnet(TINY)) for i, name in enumerate(EXTRA)}
    paths = {}
    for label, module, names, gated in (("identitynet", denoiser, [], False),
                                        ("ungated", denoiser.with_extra(extra), EXTRA, False),
                                        ("gated", denoiser.with_extra(extra), EXTRA, True)):
        spec = denoiser_spec(TINY, True, ["tiny-random"], names)
        if not gated:
            spec.gates = {}
        export_graph(module, spec, denoiser_inputs(TINY), out / label)
        paths[label] = out / label / spec.file
    return paths


def _run(path: Path, **overrides) -> np.ndarray:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    inputs = {**denoiser_inputs(TINY)(DIMS, 0), **overrides}
    return session.run(None, {i.name: inputs[i.name].numpy() for i in session.get_inputs()})[0]


ARITHMETIC = {"Conv", "MatMul", "Gemm", "Softmax", "GroupNormalization", "LayerNormalization", "Mul", "Add", "Div",
              "Sigmoid", "Erf", "ReduceMean"}


def test_the_work_of_an_extra_controlnet_sits_in_its_branch(graphs):
    """Only constants and the shape arithmetic both ControlNets share stay in the main graph."""
    model = onnx.load(str(graphs["gated"]))
    gates = [n for n in model.graph.node if n.op_type == "If"]
    assert [g.name for g in gates] == ["/controlnets/inpaint/gate", "/controlnets/softedge/gate"]
    for name in EXTRA:
        left = {n.op_type for n in model.graph.node if n.name.startswith(scope_of(name))}
        assert not left & ARITHMETIC, f"{name}: {sorted(left)} outside its branch"
    branch = next(a.g for a in gates[0].attribute if a.name == "then_branch")
    ungated = onnx.load(str(graphs["ungated"]))
    convs_of_inpaint = [n for n in ungated.graph.node if n.op_type == "Conv" and n.name.startswith(scope_of("inpaint"))]
    assert len([n for n in branch.node if n.op_type == "Conv"]) == len(convs_of_inpaint) > 0


def test_scales_off_give_exactly_the_identitynet_only_graph(graphs):
    zero = torch.zeros(2)
    assert np.array_equal(_run(graphs["gated"], inpaint_scale=zero, softedge_scale=zero), _run(graphs["identitynet"]))


@pytest.mark.parametrize("off", [[], ["inpaint"], ["softedge"]])
def test_scales_on_give_the_ungated_graph(graphs, off):
    """Same nodes in another order and with shared constants: the float32 bound of the graph's rounding count."""
    overrides = {f"{name}_scale": torch.zeros(2) for name in off}
    gated, ungated = _run(graphs["gated"], **overrides), _run(graphs["ungated"], **overrides)
    assert not np.array_equal(gated, _run(graphs["identitynet"]))
    roundings = count_roundings(onnx.load(str(graphs["gated"])), DIMS).roundings
    assert_within(gated, ungated, relative_bound(roundings), f"gated vs ungated, {off or 'both'} off")


def test_a_rows_scale_alone_opens_the_gate(graphs):
    """The gate is max over rows of |scale|: the uncond row's 0 must not switch off the cond row's ControlNet."""
    one_row = torch.tensor([0.7, 0.0])
    overrides = {"inpaint_scale": one_row, "softedge_scale": torch.zeros(2)}
    assert not np.array_equal(_run(graphs["gated"], **overrides), _run(graphs["identitynet"]))


def test_rounding_count_is_the_ungated_graphs(graphs):
    gated = count_roundings(onnx.load(str(graphs["gated"])), DIMS)
    assert gated == count_roundings(onnx.load(str(graphs["ungated"])), DIMS)
    assert gated.roundings > count_roundings(onnx.load(str(graphs["identitynet"])), DIMS).roundings


def test_gating_a_controlnet_the_graph_lacks_is_refused(graphs):
    with pytest.raises(ValueError, match="no nodes under /canny/"):
        gate_controlnets(onnx.load(str(graphs["identitynet"])), {"canny": "canny_scale"})


def test_onnxruntime_loads_the_gated_graph_without_warnings(graphs, capfd):
    """Equal constants are merged before gating: onnxruntime's own merge would warn once per name a branch reads."""
    options = ort.SessionOptions()
    options.log_severity_level = 1  # info and above: the constant-sharing pass's complaints are warnings
    ort.InferenceSession(str(graphs["gated"]), options, providers=["CPUExecutionProvider"])
    assert "cannot be safely updated" not in capfd.readouterr().err
