"""The fused denoiser with the EcomXL ControlNets beside IdentityNet: each ControlNet's residuals times its own scale,
summed; the extra ControlNets read the text embeddings; scale 0 switches one off exactly."""

import pytest
import torch

from ecomid_export.config import TINY
from ecomid_export.graphs.denoiser import denoiser_inputs, denoiser_spec, variant_graph_name
from ecomid_export.models.denoiser import Denoiser, build_identitynet, build_sdxl_controlnet, build_unet
from ecomid_export.tiny.random_init import enliven

DIMS = {"batch": 2, "latent_height": 8, "latent_width": 8, "text_tokens": 77, "id_tokens": 18,
        "image_height": 64, "image_width": 64}


def _seeded(seed, build):
    torch.manual_seed(seed)
    return enliven(build(), torch.Generator().manual_seed(seed + 1000))


@pytest.fixture(scope="module")
def denoiser():
    return _seeded(3, lambda: Denoiser(build_unet(TINY), build_identitynet(TINY), TINY.cross_attention_dim))


@pytest.fixture(scope="module")
def extra():
    return {"inpaint": _seeded(11, lambda: build_sdxl_controlnet(TINY)),
            "softedge": _seeded(12, lambda: build_sdxl_controlnet(TINY))}


def _run(model: Denoiser, **overrides):
    """The model on the inputs its graph spec declares, in the spec's order (as the ONNX export feeds them)."""
    spec = denoiser_spec(TINY, model.identitynet is not None, ["tiny-random"], model.extra_names)
    inputs = {**denoiser_inputs(TINY)(DIMS, 0), **overrides}
    with torch.no_grad():
        return model(*(inputs[t.name] for t in spec.inputs))


def _residuals(controlnet, inputs, hidden_states, image, scale):
    down, mid = controlnet(inputs["sample"], inputs["timestep"], encoder_hidden_states=hidden_states,
                           controlnet_cond=image, return_dict=False,
                           added_cond_kwargs={"text_embeds": inputs["text_embeds"], "time_ids": inputs["time_ids"]})
    row = scale.view(-1, 1, 1, 1)
    return [r * row for r in down], mid * row


def test_graph_names_and_inputs_follow_the_contract():
    spec = denoiser_spec(TINY, True, ["tiny-random"], ["inpaint", "softedge"])
    assert spec.name == variant_graph_name(["inpaint", "softedge"]) == "denoiser_inpaint_softedge"
    names = [t.name for t in spec.inputs]
    assert names[-4:] == ["inpaint_image", "inpaint_scale", "softedge_image", "softedge_scale"]
    shapes = {t.name: t.shape for t in spec.inputs}
    assert shapes["inpaint_image"] == shapes["softedge_image"] == shapes["control_image"]
    assert shapes["inpaint_scale"] == shapes["softedge_scale"] == ("batch",)
    assert denoiser_spec(TINY, True, ["tiny-random"]).name == "denoiser"


def test_zero_scales_equal_the_identitynet_only_denoiser(denoiser, extra):
    both = denoiser.with_extra(extra)
    zero = torch.zeros(2)
    assert torch.equal(_run(both, inpaint_scale=zero, softedge_scale=zero), _run(denoiser))


def test_residuals_are_summed_each_times_its_scale_with_text_embeddings_for_the_extra_nets(denoiser, extra):
    """Written out as InstantID's MultiControlNet branch does it: IdentityNet on the face tokens, the others on the
    text embeddings (the prompt_embeds), the residual lists summed."""
    both = denoiser.with_extra(extra)
    inputs = denoiser_inputs(TINY)(DIMS, 0)
    with torch.no_grad():
        parts = [_residuals(denoiser.identitynet, inputs, inputs["face_tokens"], inputs["control_image"], inputs["cn_scale"]),
                 _residuals(extra["inpaint"], inputs, inputs["encoder_hidden_states"], inputs["inpaint_image"],
                            inputs["inpaint_scale"]),
                 _residuals(extra["softedge"], inputs, inputs["encoder_hidden_states"], inputs["softedge_image"],
                            inputs["softedge_scale"])]
        down = [a + b + c for a, b, c in zip(*(p[0] for p in parts))]
        mid = parts[0][1] + parts[1][1] + parts[2][1]
        expected = denoiser.unet(inputs["sample"], inputs["timestep"], encoder_hidden_states=inputs["encoder_hidden_states"],
                                 added_cond_kwargs={"text_embeds": inputs["text_embeds"], "time_ids": inputs["time_ids"]},
                                 cross_attention_kwargs={k: inputs[k] for k in ("id_tokens", "id_weight", "id_mode")},
                                 down_block_additional_residuals=down, mid_block_additional_residual=mid,
                                 return_dict=False)[0]
    assert torch.equal(_run(both), expected)


@pytest.mark.parametrize("name", ["inpaint", "softedge"])
def test_each_extra_controlnet_changes_the_output_and_only_through_its_own_inputs(denoiser, extra, name):
    both = denoiser.with_extra(extra)
    other = "softedge" if name == "inpaint" else "inpaint"
    base = _run(both)
    assert not torch.allclose(base, _run(both, **{f"{name}_scale": torch.zeros(2)}), atol=1e-6)
    # With its scale at 0, its image is ignored exactly; the other ControlNet's image still counts.
    off = {f"{name}_scale": torch.zeros(2)}
    assert torch.equal(_run(both, **off), _run(both, **off, **{f"{name}_image": torch.zeros(2, 3, 64, 64)}))
    assert not torch.allclose(_run(both, **off), _run(both, **off, **{f"{other}_image": torch.zeros(2, 3, 64, 64)}),
                              atol=1e-6)


def test_the_extra_controlnets_read_the_text_not_the_face_tokens(denoiser, extra):
    """With IdentityNet off, the face tokens must not matter; the text embeddings must reach the extra ControlNets."""
    inpaint_only = denoiser.with_extra({"inpaint": extra["inpaint"]})
    off = {"cn_scale": torch.zeros(2)}
    assert torch.equal(_run(inpaint_only, **off), _run(inpaint_only, **off, face_tokens=torch.zeros(2, 16, 24)))
    inputs = denoiser_inputs(TINY)(DIMS, 0)
    with torch.no_grad():
        with_text = _residuals(extra["inpaint"], inputs, inputs["encoder_hidden_states"], inputs["inpaint_image"],
                               inputs["inpaint_scale"])[1]
        with_faces = _residuals(extra["inpaint"], inputs, inputs["face_tokens"], inputs["inpaint_image"],
                                inputs["inpaint_scale"])[1]
    assert not torch.allclose(with_text, with_faces, atol=1e-6)


def test_variants_share_weights_instead_of_copying_them(denoiser, extra):
    both = denoiser.with_extra(extra)
    assert both.unet is denoiser.unet and both.identitynet is denoiser.identitynet
    assert both.controlnets["inpaint"].net is extra["inpaint"]
    assert both.controlnet_names == ["identitynet", "inpaint", "softedge"]
    assert denoiser.with_extra({"softedge": extra["softedge"]}).controlnet_names == ["identitynet", "softedge"]


def test_extra_controlnets_need_identitynet_and_known_names(denoiser, extra):
    with pytest.raises(ValueError, match="need IdentityNet"):
        denoiser.without_identitynet().with_extra(extra)
    with pytest.raises(ValueError, match="need IdentityNet"):
        denoiser.with_extra({"canny": extra["inpaint"]})
