import pytest
import torch

from ecomid_export.config import TINY
from ecomid_export.graph_spec import TensorSpec
from ecomid_export.graphs import face
from ecomid_export.graphs.common import generator, randn
from ecomid_export.models.resampler import Resampler
from ecomid_export.onnx_export import VerificationError, export_graph, verification_bound, verify_graph


def _resampler():
    torch.manual_seed(0)
    spec = face.resampler_spec(TINY, ["tiny-random"])
    make = lambda d, s: {"arcface_embedding": randn((d["batch"], 1, 512), generator(s), 10.0)}  # noqa: E731
    return Resampler(TINY.resampler, TINY.cross_attention_dim).eval(), spec, make


def test_round_trip_matches_torch_with_another_batch_size(tmp_path):
    module, spec, make = _resampler()
    export_graph(module, spec, make, tmp_path)
    error = verify_graph(module, spec, make, tmp_path)  # verify_dims batch 2, exported with batch 1
    assert 0 < error <= verification_bound(spec, tmp_path)


def test_verification_fails_when_the_graph_differs_from_the_module(tmp_path):
    module, spec, make = _resampler()
    export_graph(module, spec, make, tmp_path)
    with torch.no_grad():
        module.norm_out.bias += 0.01  # (a proj_out bias shift would vanish in the LayerNorm)
    with pytest.raises(VerificationError, match="resampler: max error"):
        verify_graph(module, spec, make, tmp_path)


def test_export_refuses_outputs_other_than_declared(tmp_path):
    module, spec, make = _resampler()
    spec.outputs = [TensorSpec("face_tokens", ("batch", 16)), ]
    with pytest.raises(VerificationError, match="exported outputs"):
        export_graph(module, spec, make, tmp_path)


def test_large_graphs_go_to_external_data(tmp_path):
    module, spec, make = _resampler()
    spec.external_data = True
    path = export_graph(module, spec, make, tmp_path)
    assert (tmp_path / "graphs" / "resampler.onnx.data").stat().st_size > path.stat().st_size
    assert 0 < verify_graph(module, spec, make, tmp_path) <= verification_bound(spec, tmp_path)


def test_export_refuses_a_declared_size_the_graph_contradicts(tmp_path):
    module, spec, make = _resampler()
    spec.outputs = [TensorSpec("face_tokens", ("batch", 16, TINY.cross_attention_dim + 8))]
    with pytest.raises(VerificationError, match="exported outputs"):
        export_graph(module, spec, make, tmp_path)



def test_an_fp16_graph_is_verified_against_its_stated_tolerance(tmp_path):
    module, spec, make = _resampler()
    export_graph(module, spec, make, tmp_path)
    assert verification_bound(spec, tmp_path) < 1e-3  # float32: from the graph's rounding count
    spec.tolerance = 5e-2
    assert verification_bound(spec, tmp_path) == 5e-2
