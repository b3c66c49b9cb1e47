"""EcomID's IdentityNet: an SDXL ControlNet in InstantID's ControlNet layout.

Layout sources: alimama-creative/SDXL-EcomID on Hugging Face publishes `diffusion_pytorch_model.safetensors`
alone (fp32, about 5 GB, no config.json); InstantX/InstantID publishes `ControlNetModel/config.json` +
`diffusion_pytorch_model.safetensors`, the config below (its architecture fields), which EcomID's IdentityNet
is assumed to follow (EcomID publishes none; strict loading names any tensor that differs). Layout read off diffusers' ControlNetModel, config written by its
save_config.
"""

from pathlib import Path

import torch
from diffusers import ControlNetModel

from ..config import ArchConfig
from .random_weights import random_tensor
from .safetensors_stream import layout_of, write_safetensors
from .sdxl_diffusers import unet_config

INSTANTID_CONTROLNET_CONFIG = {
    "act_fn": "silu", "addition_embed_type": "text_time", "addition_embed_type_num_heads": 64,
    "addition_time_embed_dim": 256, "attention_head_dim": [5, 10, 20], "block_out_channels": [320, 640, 1280],
    "class_embed_type": None, "conditioning_channels": 3, "conditioning_embedding_out_channels": [16, 32, 96, 256],
    "controlnet_conditioning_channel_order": "rgb", "cross_attention_dim": 2048,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"], "downsample_padding": 1,
    "encoder_hid_dim": None, "encoder_hid_dim_type": None, "flip_sin_to_cos": True, "freq_shift": 0,
    "global_pool_conditions": False, "in_channels": 4, "layers_per_block": 2, "mid_block_scale_factor": 1,
    "norm_eps": 1e-05, "norm_num_groups": 32, "num_attention_heads": None, "num_class_embeds": None,
    "only_cross_attention": False, "projection_class_embeddings_input_dim": 2816,
    "resnet_time_scale_shift": "default", "transformer_layers_per_block": [1, 2, 10], "upcast_attention": None,
    "use_linear_projection": True,
}
SHARED_WITH_UNET = ("attention_head_dim", "block_out_channels", "addition_time_embed_dim", "cross_attention_dim",
                    "layers_per_block", "norm_num_groups", "projection_class_embeddings_input_dim",
                    "transformer_layers_per_block")


def controlnet_config(arch: ArchConfig, **changes) -> dict:
    """InstantID's config at `arch`'s widths; `changes` make a different ControlNet (for refusal tests)."""
    unet = unet_config(arch)
    config = dict(INSTANTID_CONTROLNET_CONFIG, **{k: unet[k] for k in SHARED_WITH_UNET},
                  conditioning_embedding_out_channels=list(arch.unet.conditioning_embedding_out_channels))
    return dict(config, **changes)


def write_identitynet(folder: Path, arch: ArchConfig, seed: int = 0, with_config: bool = False, **changes) -> Path:
    """EcomID's upload (weights alone) by default; `with_config` adds config.json, as InstantID publishes its own.
    The weights are written one tensor at a time (the full-size file is 5 GB of fp32) in the bytes diffusers'
    save_pretrained writes (safetensors with {"format": "pt"}), names and shapes read off diffusers'
    ControlNetModel on the meta device."""
    with torch.device("meta"):
        model = ControlNetModel(**controlnet_config(arch, **changes))
    if with_config:
        model.save_config(folder)
    layout = layout_of(model.state_dict())
    generator = torch.Generator().manual_seed(seed)
    write_safetensors(folder / "diffusion_pytorch_model.safetensors", layout,
                      lambda name: random_tensor(name, layout[name][0], generator), metadata={"format": "pt"})
    return folder
