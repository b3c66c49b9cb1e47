"""The fused denoiser: IdentityNet (ControlNet) + optional EcomXL ControlNets + SDXL UNet + PuLID ID attention.

Residuals stay inside the graph (each ControlNet's ten residual tensors never cross to the host); every scale
(`cn_scale`, `inpaint_scale`, `softedge_scale`) and `id_weight` are inputs so 0 disables each exactly.
"""

from diffusers import ControlNetModel, UNet2DConditionModel
from diffusers.utils import logging as diffusers_logging
from torch import nn

from ..config import ArchConfig
from .id_attention import install_id_attention


# Self-attention processors warn once per call that they ignore the ID kwargs; that is intended.
diffusers_logging.set_verbosity_error()


def _shared_config(arch: ArchConfig) -> dict:
    u = arch.unet
    return dict(
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        block_out_channels=u.block_out_channels,
        layers_per_block=u.layers_per_block,
        transformer_layers_per_block=u.transformer_layers_per_block,
        attention_head_dim=u.attention_head_dim,
        norm_num_groups=u.norm_num_groups,
        cross_attention_dim=arch.cross_attention_dim,
        addition_embed_type="text_time",
        addition_time_embed_dim=u.addition_time_embed_dim,
        projection_class_embeddings_input_dim=6 * u.addition_time_embed_dim + arch.text_embeds_dim,
        use_linear_projection=True,
    )


def build_unet(arch: ArchConfig) -> UNet2DConditionModel:
    return UNet2DConditionModel(
        in_channels=4, out_channels=4, up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        **_shared_config(arch),
    )


# The ControlNets a bundle may carry beyond IdentityNet, in the order their inputs follow cn_scale.
EXTRA_CONTROLNETS = ("inpaint", "softedge")


def build_identitynet(arch: ArchConfig) -> ControlNetModel:
    """InstantID's ControlNet layout (RGB hint): EcomID publishes no config, so InstantID's is assumed and strict
    loading names any tensor that does not fit."""
    return ControlNetModel(
        in_channels=4, conditioning_channels=3,
        conditioning_embedding_out_channels=arch.unet.conditioning_embedding_out_channels,
        **_shared_config(arch),
    )


def build_sdxl_controlnet(arch: ArchConfig) -> ControlNetModel:
    """An SDXL ControlNet as diffusers' train_controlnet_sdxl.py makes one from the SDXL UNet (the EcomXL Inpaint and
    Softedge ControlNets): RGB condition, the UNet's encoder widths. Same layout as IdentityNet's."""
    return build_identitynet(arch)


class Denoiser(nn.Module):
    """eps = UNet(x | text, ID attention, sum over ControlNets of residuals * scale).

    IdentityNet takes the Resampler's face tokens as its encoder_hidden_states; every further ControlNet takes the
    text embeddings, as InstantID's MultiControlNet branch does for each net after the first
    (instantX-research/InstantID, pipeline_stable_diffusion_xl_instantid_full.py: `controlnet_prompt_embeds =
    prompt_image_emb` for control_index 0, else `prompt_embeds`; the residuals are summed over the nets)."""

    def __init__(self, unet: UNet2DConditionModel, identitynet: ControlNetModel | None, id_dim: int,
                 extra_controlnets: dict[str, ControlNetModel] | None = None):
        super().__init__()
        self.unet = unet
        self.identitynet = identitynet
        self.id_attention = install_id_attention(unet, id_dim)
        extra = extra_controlnets or {}
        unknown = set(extra) - set(EXTRA_CONTROLNETS)
        if unknown or (extra and identitynet is None):
            raise ValueError(f"extra ControlNets {sorted(extra)} need IdentityNet and names from {EXTRA_CONTROLNETS}")
        # Registered only when present, so a bundle without them exports the same initializer names as before.
        self.extra_names = [name for name in EXTRA_CONTROLNETS if name in extra]
        if self.extra_names:
            self.controlnets = nn.ModuleDict({name: ScaledControlNet(extra[name]) for name in self.extra_names})

    @property
    def controlnet_names(self) -> list[str]:
        """The ControlNets this denoiser runs, as the manifest's denoiser_variants name them."""
        return (["identitynet"] if self.identitynet is not None else []) + self.extra_names

    def with_extra(self, extra: dict[str, ControlNetModel]) -> "Denoiser":
        """This denoiser's UNet, ID attention and IdentityNet (shared, not copied) plus the given ControlNets."""
        variant = Denoiser.__new__(Denoiser)
        nn.Module.__init__(variant)
        variant.unet, variant.identitynet, variant.id_attention = self.unet, self.identitynet, self.id_attention
        variant.extra_names = [name for name in EXTRA_CONTROLNETS if name in extra]
        if set(extra) - set(variant.extra_names) or (extra and self.identitynet is None):
            raise ValueError(f"extra ControlNets {sorted(extra)} need IdentityNet and names from {EXTRA_CONTROLNETS}")
        if variant.extra_names:
            variant.controlnets = nn.ModuleDict({name: ScaledControlNet(extra[name]) for name in variant.extra_names})
        return variant

    def without_identitynet(self) -> "Denoiser":
        """The ControlNet-free variant, sharing the UNet and ID attention weights."""
        plain = Denoiser.__new__(Denoiser)
        nn.Module.__init__(plain)
        plain.unet, plain.identitynet, plain.id_attention = self.unet, None, self.id_attention
        plain.extra_names = []
        return plain

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds, time_ids, id_tokens, id_weight, id_mode,
                control_image=None, face_tokens=None, cn_scale=None, *conditions):
        """`conditions`: (image, scale) for each of `extra_names`, in that order (the graph's input order)."""
        added = {"text_embeds": text_embeds, "time_ids": time_ids}
        residuals = {}
        if self.identitynet is not None:
            down, mid = _scaled(self.identitynet, sample, timestep, face_tokens, control_image, added, cn_scale)
            for i, name in enumerate(self.extra_names):
                image, scale = conditions[2 * i], conditions[2 * i + 1]
                more_down, more_mid = self.controlnets[name](sample, timestep, encoder_hidden_states, image,
                                                             text_embeds, time_ids, scale)
                down, mid = [a + b for a, b in zip(down, more_down)], mid + more_mid
            residuals = {"down_block_additional_residuals": down, "mid_block_additional_residual": mid}
        id_kwargs = {"id_tokens": id_tokens, "id_weight": id_weight, "id_mode": id_mode}
        return self.unet(sample, timestep, encoder_hidden_states=encoder_hidden_states, added_cond_kwargs=added,
                         cross_attention_kwargs=id_kwargs, return_dict=False, **residuals)[0]


def _scaled(controlnet: ControlNetModel, sample, timestep, hidden_states, image, added: dict, scale):
    """One ControlNet's residuals times its per-row scale (diffusers multiplies by one scalar; rows differ here)."""
    down, mid = controlnet(sample, timestep, encoder_hidden_states=hidden_states, controlnet_cond=image,
                           added_cond_kwargs=added, return_dict=False)
    row = scale.view(-1, 1, 1, 1)
    return [r * row for r in down], mid * row


class ScaledControlNet(nn.Module):
    """An extra ControlNet and the scaling of its residuals, in one module so that every node of its work carries
    its scope in the exported graph (`/<name>/...`): the gate (controlnet_gates.py) moves exactly those
    nodes into a branch that runs only when the scale is not zero."""

    def __init__(self, net: ControlNetModel):
        super().__init__()
        self.net = net

    def forward(self, sample, timestep, hidden_states, image, text_embeds, time_ids, scale):
        added = {"text_embeds": text_embeds, "time_ids": time_ids}
        return _scaled(self.net, sample, timestep, hidden_states, image, added, scale)
