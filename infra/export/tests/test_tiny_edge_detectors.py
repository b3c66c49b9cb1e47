"""The tiny bundle's soft-edge detectors `pidinet` and `hed` (ecomid_export/tiny/edge_detectors.py): declared in the
manifest, their committed graphs the seeded networks with contrast, built without touching any other component's
randomness; and the Python manifest checks that mirror the zod schema's for `edge_detectors`."""

import json

import numpy as np
import onnx
import pytest
import torch

from bounds import assert_within
from ecomid_export.annotators import onnx_edge_function, torch_edge_function
from ecomid_export.annotators.edge_graph import logit_scale
from ecomid_export.annotators.reference import hwc3, resize_image
from ecomid_export.float_error import count_roundings, relative_bound
from ecomid_export.images import read_rgb
from ecomid_export.licences import LICENCES
from ecomid_export.manifest import validate_manifest
from ecomid_export.tiny.edge_detectors import build_tiny_edge_detectors

DETECTORS = ("pidinet", "hed")


@pytest.fixture()
def manifest(tiny_bundle) -> dict:
    return json.loads((tiny_bundle / "manifest.json").read_text())


@pytest.fixture(scope="module")
def detectors() -> dict:
    return build_tiny_edge_detectors(0)


def test_the_manifest_declares_both_detectors_and_their_graphs(manifest):
    validate_manifest(manifest)
    assert {name: d["graph"] for name, d in manifest["edge_detectors"].items()} == {"pidinet": "pidinet", "hed": "hed"}
    for name in DETECTORS:
        assert manifest["edge_detectors"][name]["source"] in manifest["licences"]
        assert [t["name"] for t in manifest["graphs"][name]["inputs"]] == ["image"]
        assert [t["name"] for t in manifest["graphs"][name]["outputs"]] == ["edge"]


def test_a_detector_whose_graph_is_missing_is_refused(manifest):
    del manifest["graphs"]["hed"]
    with pytest.raises(ValueError, match=r"edge detector graphs not in graphs: \['hed'\]"):
        validate_manifest(manifest)


def test_a_detector_source_without_a_licence_is_refused(manifest):
    manifest["edge_detectors"]["pidinet"]["source"] = "unlicensed"
    with pytest.raises(ValueError, match="unlicensed"):
        validate_manifest(manifest)


def test_the_published_detector_weights_are_not_marked_for_commercial_use():
    # hellozhuo/pidinet LICENSE: research only, commercial use to be agreed with the authors; ControlNetHED's
    # Apache-2.0 comes from controlnet_aux's header while lllyasviel/Annotators says "other": unverified.
    assert LICENCES["pidinet"]["commercial_use"] is False and "research" in LICENCES["pidinet"]["note"].lower()
    assert LICENCES["controlnet-hed"]["commercial_use"] is False and "verify" in LICENCES["controlnet-hed"]["licence"]


def test_building_the_detectors_leaves_torch_global_generator_as_it_was():
    torch.manual_seed(123)
    expected = torch.rand(4)
    torch.manual_seed(123)
    build_tiny_edge_detectors(0)
    assert torch.equal(torch.rand(4), expected), "the detectors' build moved the generator every other component uses"


@pytest.mark.parametrize("name", DETECTORS)
def test_the_committed_graph_is_the_seeded_network_and_its_map_has_contrast(tiny_bundle, images_dir, detectors, name):
    """onnxruntime on the committed graph against the module the build makes today, on chelsea.png at the size
    controlnet_aux's resize_image gives it for a 128 detect resolution (192x128): float32's bound for the graph's
    rounding count at that size, times the largest |logit| (edge_graph.logit_scale)."""
    path = tiny_bundle / "graphs" / f"{name}.onnx"
    sized = resize_image(hwc3(read_rgb(images_dir / "chelsea.png")), 128)
    pixels = np.ascontiguousarray((sized.astype(np.float32) / np.float32(255.0)).transpose(2, 0, 1)[None])
    expected = torch_edge_function(detectors[name])(pixels)
    roundings = count_roundings(onnx.load(str(path)), {"height": sized.shape[0], "width": sized.shape[1]}).roundings
    bound = relative_bound(roundings, amplification=logit_scale(detectors[name], {"image": torch.from_numpy(pixels)}))
    assert_within(onnx_edge_function(path)(pixels), expected, bound, name)
    # The last layer's gain spreads the probabilities: without it they span 0.41..0.61 (pidinet), 0.49..0.53 (hed).
    assert expected.max() - expected.min() > 0.5, f"{name}: edges span only {expected.min():.2f}..{expected.max():.2f}"
