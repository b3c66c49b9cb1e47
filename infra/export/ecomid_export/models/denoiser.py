"""The fused denoiser: IdentityNet (ControlNet) + SDXL UNet + PuLID ID attention in one graph.

Residuals stay inside the graph (IdentityNet's ten residual tensors never cross to the host); `cn_scale`
and `id_weight` are inputs so 0 disables either exactly.
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


def build_identitynet(arch: ArchConfig) -> ControlNetModel:
    """InstantID's ControlNet layout (RGB hint): EcomID publishes no config, so InstantID's is assumed and strict
    loading names any tensor that does not fit."""
    return ControlNetModel(
        in_channels=4, conditioning_channels=3,
        conditioning_embedding_out_channels=arch.unet.conditioning_embedding_out_channels,
        **_shared_config(arch),
    )


class Denoiser(nn.Module):
    """eps = UNet(x | text, ID attention, IdentityNet residuals * cn_scale)."""

    def __init__(self, unet: UNet2DConditionModel, identitynet: ControlNetModel | None, id_dim: int):
        super().__init__()
        self.unet = unet
        self.identitynet = identitynet
        self.id_attention = install_id_attention(unet, id_dim)

    def without_identitynet(self) -> "Denoiser":
        """The ControlNet-free variant, sharing the UNet and ID attention weights."""
        plain = Denoiser.__new__(Denoiser)
        nn.Module.__init__(plain)
        plain.unet, plain.identitynet, plain.id_attention = self.unet, None, self.id_attention
        return plain

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds, time_ids, id_tokens, id_weight, id_mode,
                control_image=None, face_tokens=None, cn_scale=None):
        added = {"text_embeds": text_embeds, "time_ids": time_ids}
        residuals = {}
        if self.identitynet is not None:
            down, mid = self.identitynet(sample, timestep, encoder_hidden_states=face_tokens,
                                         controlnet_cond=control_image, added_cond_kwargs=added, return_dict=False)
            scale = cn_scale.view(-1, 1, 1, 1)
            residuals = {"down_block_additional_residuals": [r * scale for r in down],
                         "mid_block_additional_residual": mid * scale}
        id_kwargs = {"id_tokens": id_tokens, "id_weight": id_weight, "id_mode": id_mode}
        return self.unet(sample, timestep, encoder_hidden_states=encoder_hidden_states, added_cond_kwargs=added,
                         cross_attention_kwargs=id_kwargs, return_dict=False, **residuals)[0]
