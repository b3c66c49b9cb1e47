"""Graph specs and random inputs for `denoiser`, its variants with EcomXL ControlNets, and `denoiser_no_control`."""

import torch

from ..config import ArchConfig
from ..graph_spec import GraphSpec, TensorSpec
from ..models.id_attention import ID_MODES
from .common import generator, rand, randn

ID_NOTES = ("id_tokens: cond rows get the ID tokens, uncond rows the uncond constant; pad each with zeros to "
            "T = id_tokens + id_padding_tokens[mode]. id_mode: 0 neutral, 1 style, 2 fidelity. "
            "id_weight / cn_scale per row; 0 disables exactly. timestep: the discrete index as float32.")


CONDITION_NOTES = {
    "inpaint": "inpaint_image: the EcomXL Inpaint condition, RGB/255 with masked (to generate) pixels set to -1, at 8x "
               "the latent size; inpaint_scale per row.",
    "softedge": "softedge_image: the soft-edge map RGB in [0,1] at 8x the latent size; softedge_scale per row.",
}


def variant_graph_name(extra_controlnets: list[str]) -> str:
    """`denoiser` for IdentityNet alone, `denoiser_inpaint`, `denoiser_softedge`, `denoiser_inpaint_softedge`."""
    return "_".join(["denoiser", *extra_controlnets])


def denoiser_spec(arch: ArchConfig, with_control: bool, sources: list[str],
                  extra_controlnets: list[str] = ()) -> GraphSpec:
    c = arch.cross_attention_dim
    inputs = [
        TensorSpec("sample", ("batch", 4, "latent_height", "latent_width")),
        TensorSpec("timestep", ("batch",)),
        TensorSpec("encoder_hidden_states", ("batch", "text_tokens", c)),
        TensorSpec("text_embeds", ("batch", arch.text_embeds_dim)),
        TensorSpec("time_ids", ("batch", 6)),
        TensorSpec("id_tokens", ("batch", "id_tokens", c)),
        TensorSpec("id_weight", ("batch",)),
        TensorSpec("id_mode", ("batch",), "int64"),
    ]
    if with_control:
        inputs += [
            TensorSpec("control_image", ("batch", 3, "image_height", "image_width")),
            TensorSpec("face_tokens", ("batch", arch.resampler.num_queries, c)),
            TensorSpec("cn_scale", ("batch",)),
        ]
    for extra in extra_controlnets:
        inputs += [TensorSpec(f"{extra}_image", ("batch", 3, "image_height", "image_width")),
                   TensorSpec(f"{extra}_scale", ("batch",))]
    name = variant_graph_name(list(extra_controlnets)) if with_control else "denoiser_no_control"
    notes = ID_NOTES + (" control_image: keypoint image RGB in [0,1] at 8x the latent size." if with_control else
                        " Same UNet weights without IdentityNet, for steps outside the ControlNet's window.")
    notes += "".join(" " + CONDITION_NOTES[extra] for extra in extra_controlnets)
    return GraphSpec(
        name=name, gates={extra: f"{extra}_scale" for extra in extra_controlnets}, inputs=inputs, outputs=[TensorSpec("noise_pred", ("batch", 4, "latent_height", "latent_width"))],
        sources=sources, notes=notes,
        example_dims={"batch": 2, "latent_height": 8, "latent_width": 8, "text_tokens": 77, "id_tokens": 18,
                      "image_height": 64, "image_width": 64},
        verify_dims={"batch": 2, "latent_height": 16, "latent_width": 8, "text_tokens": 154, "id_tokens": 26,
                     "image_height": 128, "image_width": 64},
    )


def denoiser_inputs(arch: ArchConfig):
    c = arch.cross_attention_dim

    def make(dims: dict[str, int], seed: int) -> dict[str, torch.Tensor]:
        g = generator(seed)
        b, h, w = dims["batch"], dims["latent_height"], dims["latent_width"]
        modes = torch.tensor([ID_MODES["fidelity"], ID_MODES["style"], ID_MODES["neutral"]] * b)[:b]
        return {
            "sample": randn((b, 4, h, w), g),
            "timestep": torch.tensor([999.0, 421.0] * b)[:b],
            "encoder_hidden_states": randn((b, dims["text_tokens"], c), g),
            "text_embeds": randn((b, arch.text_embeds_dim), g),
            "time_ids": torch.tensor([[8.0 * h, 8.0 * w, 0, 0, 8.0 * h, 8.0 * w]] * b),
            "id_tokens": randn((b, dims["id_tokens"], c), g),
            "id_weight": rand((b,), g, 0.2, 1.0),
            "id_mode": modes.to(torch.int64),
            "control_image": rand((b, 3, dims["image_height"], dims["image_width"]), g),
            "face_tokens": randn((b, arch.resampler.num_queries, c), g),
            "cn_scale": rand((b,), g, 0.5, 1.0),
            # Drawn after the inputs above so those stay what they were before the extra ControlNets existed.
            "inpaint_image": _inpaint_condition(rand((b, 3, dims["image_height"], dims["image_width"]), g),
                                                rand((b, 1, dims["image_height"], dims["image_width"]), g)),
            "inpaint_scale": rand((b,), g, 0.5, 1.0),
            "softedge_image": rand((b, 3, dims["image_height"], dims["image_width"]), g),
            "softedge_scale": rand((b,), g, 0.5, 1.0),
        }

    return make


def _inpaint_condition(image: torch.Tensor, draw: torch.Tensor) -> torch.Tensor:
    """About half the pixels masked (-1 on all channels), as the EcomXL Inpaint condition has them."""
    return torch.where(draw < 0.5, torch.full_like(image, -1.0), image)
