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
                                       "id_encoder", "id_prep", "scrfd", "arcface", "denoiser_inpaint_softedge", "pidinet",
                                       "hed"}
    assert manifest["graphs"]["denoiser"]["external_data"] == ["graphs/denoiser.onnx.data"]
    assert (real_bundle / "graphs" / "denoiser.onnx.data").is_file()


def test_the_annotator_files_given_become_the_edge_detectors(real_bundle):
    """lllyasviel/Annotators' table5_pidinet.pth and ControlNetHED.pth (published layouts, tiny widths) become the
    pidinet and hed graphs, each under its own licence: PiDiNet's is for research only."""
    manifest = json.loads((real_bundle / "manifest.json").read_text())
    assert manifest["edge_detectors"] == {"pidinet": {"graph": "pidinet", "source": "pidinet"},
                                          "hed": {"graph": "hed", "source": "controlnet-hed"}}
    assert manifest["graphs"]["pidinet"]["sources"] == ["pidinet"]
    assert manifest["licences"]["pidinet"]["commercial_use"] is False
    assert [i["name"] for i in manifest["graphs"]["hed"]["inputs"]] == ["image"]
    assert (real_bundle / "graphs" / "pidinet.onnx").is_file() and (real_bundle / "graphs" / "hed.onnx").is_file()


def test_the_ecomxl_controlnets_given_make_one_gated_denoiser(real_bundle):
    import onnx
    manifest = json.loads((real_bundle / "manifest.json").read_text())
    assert manifest["denoiser_variants"][-1] == {"graph": "denoiser_inpaint_softedge",
                                                 "controlnets": ["identitynet", "inpaint", "softedge"]}
    assert manifest["controlnets"]["inpaint"]["source"] == "ecomxl-inpaint"
    assert manifest["graphs"]["denoiser_inpaint_softedge"]["sources"] == ["sdxl", "ecomid", "pulid", "ecomxl-inpaint",
                                                                         "ecomxl-softedge"]
    assert manifest["licences"]["ecomxl-softedge"]["origin"] == "alimama-creative/EcomXL_controlnet_softedge"
    assert manifest["graphs"]["denoiser_inpaint_softedge"]["precision"] == "mixed"
    graph = onnx.load(str(real_bundle / "graphs" / "denoiser_inpaint_softedge.onnx"), load_external_data=False)
    assert [n.name for n in graph.graph.node if n.op_type == "If"] == ["/controlnets/inpaint/gate",
                                                                      "/controlnets/softedge/gate"]


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


def test_fp16_denoiser_halves_every_weight_and_keeps_the_fidelity_softmax_in_fp32(real_bundle):
    """infra/export/README.md, Precision: the ID K/V projections (to_k_ip, to_v_ip) are fp16 like every UNet weight
    (the published PuLID SDXL file is fp16; the reference applies them in the UNet's dtype); one fp32 island per ID
    layer is the fidelity mode's softmax of unscaled logits, whose large values fp16 spaces too coarsely."""
    import onnx
    from onnx import TensorProto

    from ecomid_export.config import TINY
    from ecomid_export.published.attention_layers import cross_attention_layers

    model = onnx.load(str(real_bundle / "graphs" / "denoiser.onnx"), load_external_data=False)
    weights = [i for i in model.graph.initializer if len(i.dims) == 2]  # every Linear (to_k_ip / to_v_ip among them)
    assert weights and {i.data_type for i in weights} == {TensorProto.FLOAT16}
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type for v in [*inferred.graph.value_info, *inferred.graph.input]}
    softmax_inputs = [types.get(n.input[0]) for n in inferred.graph.node if n.op_type == "Softmax"]
    assert softmax_inputs.count(TensorProto.FLOAT) == len(cross_attention_layers(TINY))
