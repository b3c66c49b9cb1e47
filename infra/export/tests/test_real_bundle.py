"""Real mode end to end on published-layout files (tiny widths): the command an operator runs, on the file
names they download, builds a bundle that validates against the manifest schema and verified every graph."""

import json
import subprocess
import sys

import pytest

from conftest import EXPORT_DIR


@pytest.fixture(scope="module")
def real_bundle(published_inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("real-bundle")
    subprocess.run([sys.executable, "-m", "ecomid_export", "--out", str(out), "--widths", "tiny", "--bundle-id", "ecomid-test",
                    *published_inputs.cli_args()], cwd=EXPORT_DIR, check=True, stdout=subprocess.DEVNULL)
    return out


def test_the_cli_builds_a_real_bundle_from_the_published_files(real_bundle):
    manifest = json.loads((real_bundle / "manifest.json").read_text())
    assert manifest["fixture"] is False and manifest["id"] == "ecomid-test"
    assert manifest["licences"]["antelopev2"]["commercial_use"] is False
    assert set(manifest["graphs"]) == {"clip_l", "clip_g", "denoiser", "denoiser_no_control", "vae_decoder", "resampler",
                                       "id_encoder", "id_prep", "retinaface", "scrfd", "arcface"}
    assert manifest["graphs"]["denoiser"]["external_data"] == ["graphs/denoiser.onnx.data"]
    assert (real_bundle / "graphs" / "denoiser.onnx.data").is_file()


def test_precisions_follow_the_inputs(real_bundle):
    graphs = json.loads((real_bundle / "manifest.json").read_text())["graphs"]
    assert graphs["denoiser"]["precision"] == "mixed" and graphs["clip_g"]["precision"] == "float16"
    assert graphs["vae_decoder"]["precision"] == "float16"  # the fp16-fix VAE was given
    assert graphs["id_prep"]["precision"] == "float32"
    assert graphs["denoiser"]["inputs"][0]["dtype"] == "float32"  # fp16 stays inside the graph


def test_antelopev2_graphs_keep_their_published_names(real_bundle):
    graphs = json.loads((real_bundle / "manifest.json").read_text())["graphs"]
    assert [o["name"] for o in graphs["scrfd"]["outputs"]] == ["448", "471", "494", "451", "474", "497", "454", "477", "500"]
    assert graphs["scrfd"]["inputs"][0]["name"] == "input.1" and graphs["arcface"]["outputs"][0]["name"] == "1333"
    assert graphs["scrfd"]["sources"] == ["antelopev2"]


def test_published_onnx_dims_get_distinct_valid_symbols():
    from onnx import TensorProto, helper

    from ecomid_export.real.antelopev2 import _dims

    scores = _dims(helper.make_tensor_value_info("448", TensorProto.FLOAT, [None, 1]))
    boxes = _dims(helper.make_tensor_value_info("471", TensorProto.FLOAT, [None, 4]))
    image = _dims(helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "?", "?"]))
    assert scores == ("t_448_dim0", 1) and boxes == ("t_471_dim0", 4)
    assert image == (1, 3, "t_input_1_dim2", "t_input_1_dim3")
