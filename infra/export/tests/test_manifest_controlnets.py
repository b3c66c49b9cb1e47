"""The manifest's `controlnets` and `denoiser_variants`: the Python checks mirror the zod schema's (manifest.ts)."""

import copy
import json

import pytest
from jsonschema import ValidationError

from ecomid_export.manifest import controlnet_sections, validate_manifest


@pytest.fixture()
def manifest(tiny_bundle) -> dict:
    return json.loads((tiny_bundle / "manifest.json").read_text())


def test_the_tiny_bundle_declares_both_controlnets_and_the_gated_variant(manifest):
    validate_manifest(manifest)
    assert sorted(manifest["controlnets"]) == ["inpaint", "softedge"]
    assert manifest["denoiser_variants"] == [
        {"graph": "denoiser_no_control", "controlnets": []},
        {"graph": "denoiser", "controlnets": ["identitynet"]},
        {"graph": "denoiser_inpaint_softedge", "controlnets": ["identitynet", "inpaint", "softedge"]}]
    inputs = [t["name"] for t in manifest["graphs"]["denoiser_inpaint_softedge"]["inputs"]]
    assert inputs[-4:] == ["inpaint_image", "inpaint_scale", "softedge_image", "softedge_scale"]


def test_a_bundle_without_the_new_sections_stays_valid(manifest):
    for key in ("controlnets", "denoiser_variants"):
        del manifest[key]
    del manifest["graphs"]["denoiser_inpaint_softedge"]
    manifest["files"] = [f for f in manifest["files"] if "denoiser_inpaint_softedge" not in f["path"]]
    validate_manifest(manifest)


def test_a_variant_whose_graph_is_missing_is_refused(manifest):
    del manifest["graphs"]["denoiser_inpaint_softedge"]
    with pytest.raises(ValueError, match="denoiser variant denoiser_inpaint_softedge is not in graphs"):
        validate_manifest(manifest)


def test_a_variant_whose_graph_lacks_a_controlnets_inputs_is_refused(manifest):
    manifest["denoiser_variants"].append({"graph": "denoiser", "controlnets": ["identitynet", "softedge"]})
    with pytest.raises(ValueError, match="denoiser lacks the inputs of ControlNet softedge"):
        validate_manifest(manifest)


def test_a_controlnet_no_variant_runs_is_refused(manifest):
    manifest["denoiser_variants"] = manifest["denoiser_variants"][:2]
    with pytest.raises(ValueError, match=r"no denoiser variant runs ControlNets \['inpaint', 'softedge'\]"):
        validate_manifest(manifest)


def test_unknown_controlnet_names_and_sources_are_refused(manifest):
    bad = copy.deepcopy(manifest)
    bad["denoiser_variants"][2]["controlnets"].append("canny")
    with pytest.raises(ValidationError):
        validate_manifest(bad)
    manifest["controlnets"]["inpaint"]["source"] = "nowhere"
    with pytest.raises(ValueError, match="nowhere"):
        validate_manifest(manifest)


def test_sections_list_only_the_controlnets_a_variant_runs():
    sections = controlnet_sections([["softedge"]], {"inpaint": "a", "softedge": "b"})
    assert list(sections["controlnets"]) == ["softedge"]
    assert sections["denoiser_variants"][-1] == {"graph": "denoiser_softedge", "controlnets": ["identitynet", "softedge"]}
    assert sections["extra_sources"] == ["b"]
