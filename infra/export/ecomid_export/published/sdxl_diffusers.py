"""SDXL as a diffusers folder: the layout of stabilityai/stable-diffusion-xl-base-1.0 (and EcomXL, DreamShaper-XL
in diffusers form): model_index.json, unet/, text_encoder/, text_encoder_2/, vae/, each a config.json beside its
weights.

Layout source: the Hugging Face repository stabilityai/stable-diffusion-xl-base-1.0 (`model_index.json`,
`unet/config.json`, `text_encoder/config.json`, `text_encoder_2/config.json`, `vae/config.json`); the configs
below are those files' architecture fields. Written by the libraries that wrote them: diffusers'
`save_pretrained` for the UNet and VAE (sharded with `diffusion_pytorch_model.safetensors.index.json` when asked,
as diffusers shards a large UNet), transformers for the text encoders. One difference from the pinned
transformers: the published `text_encoder/model.safetensors` was written by transformers 4, whose CLIPTextModel
wrapped a `text_model` (keys `text_model.embeddings...`); transformers >= 5.6 flattened that class and writes no
prefix, so the writer puts the published prefix back (transformers' `modeling_clip.py`, CLIPTextModel history).
"""

import json
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from ..config import ArchConfig
from .random_weights import no_silent_zeros

UNET_CONFIG = {
    "act_fn": "silu", "addition_embed_type": "text_time", "addition_embed_type_num_heads": 64,
    "addition_time_embed_dim": 256, "attention_head_dim": [5, 10, 20], "block_out_channels": [320, 640, 1280],
    "center_input_sample": False, "cross_attention_dim": 2048,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"], "downsample_padding": 1,
    "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2, "mid_block_scale_factor": 1,
    "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "projection_class_embeddings_input_dim": 2816,
    "sample_size": 128, "transformer_layers_per_block": [1, 2, 10],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"], "use_linear_projection": True,
}
TEXT_ENCODER_CONFIG = {
    "architectures": ["CLIPTextModel"], "hidden_act": "quick_gelu", "hidden_size": 768, "intermediate_size": 3072,
    "num_attention_heads": 12, "num_hidden_layers": 12, "max_position_embeddings": 77, "projection_dim": 768,
    "vocab_size": 49408, "layer_norm_eps": 1e-05, "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1,
}
TEXT_ENCODER_2_CONFIG = {
    "architectures": ["CLIPTextModelWithProjection"], "hidden_act": "gelu", "hidden_size": 1280,
    "intermediate_size": 5120, "num_attention_heads": 20, "num_hidden_layers": 32, "max_position_embeddings": 77,
    "projection_dim": 1280, "vocab_size": 49408, "layer_norm_eps": 1e-05, "bos_token_id": 0, "eos_token_id": 2,
    "pad_token_id": 1,
}
VAE_CONFIG = {
    "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4,
    "force_upcast": True, "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32,
    "out_channels": 3, "sample_size": 1024, "scaling_factor": 0.13025,
}
MODEL_INDEX = {
    "_class_name": "StableDiffusionXLPipeline", "force_zeros_for_empty_prompt": True,
    "scheduler": ["diffusers", "EulerDiscreteScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
    "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"], "tokenizer": ["transformers", "CLIPTokenizer"],
    "tokenizer_2": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}


def unet_config(arch: ArchConfig) -> dict:
    """SDXL base's UNet config at `arch`'s widths (REAL gives the published one back)."""
    u = arch.unet
    return dict(UNET_CONFIG, block_out_channels=list(u.block_out_channels),
                transformer_layers_per_block=list(u.transformer_layers_per_block),
                attention_head_dim=list(u.attention_head_dim), norm_num_groups=u.norm_num_groups,
                addition_time_embed_dim=u.addition_time_embed_dim, layers_per_block=u.layers_per_block,
                cross_attention_dim=arch.cross_attention_dim,
                projection_class_embeddings_input_dim=6 * u.addition_time_embed_dim + arch.text_embeds_dim)


def text_encoder_config(arch: ArchConfig, second: bool) -> dict:
    text = arch.clip_g if second else arch.clip_l
    published = TEXT_ENCODER_2_CONFIG if second else TEXT_ENCODER_CONFIG
    return dict(published, hidden_size=text.hidden_size, intermediate_size=text.intermediate_size,
                num_hidden_layers=text.num_hidden_layers, num_attention_heads=text.num_attention_heads,
                projection_dim=text.projection_dim or text.hidden_size, vocab_size=arch.vocab_size)


def vae_config(arch: ArchConfig) -> dict:
    v = arch.vae
    blocks = len(v.block_out_channels)
    return dict(VAE_CONFIG, block_out_channels=list(v.block_out_channels), layers_per_block=v.layers_per_block,
                norm_num_groups=v.norm_num_groups, down_block_types=["DownEncoderBlock2D"] * blocks,
                up_block_types=["UpDecoderBlock2D"] * blocks)


def seeded_unet(arch: ArchConfig, seed: int) -> UNet2DConditionModel:
    torch.manual_seed(seed)
    return no_silent_zeros(UNet2DConditionModel(**unet_config(arch)), seed)


def seeded_vae(arch: ArchConfig, seed: int, config: dict | None = None) -> AutoencoderKL:
    torch.manual_seed(seed)
    return no_silent_zeros(AutoencoderKL(**(config or vae_config(arch))), seed)


def seeded_text_encoder(arch: ArchConfig, second: bool, seed: int):
    torch.manual_seed(seed)
    cls = CLIPTextModelWithProjection if second else CLIPTextModel
    return cls(CLIPTextConfig(**text_encoder_config(arch, second))).eval()


def transformers4_clip_state(model) -> dict[str, torch.Tensor]:
    """A CLIP text model's tensors as transformers 4 wrote them: under `text_model.` (the published layout)."""
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if hasattr(model, "text_model"):
        return state
    return {f"text_model.{k}": v for k, v in state.items()}


def write_text_encoder(folder: Path, model) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.config.save_pretrained(folder)
    save_file(transformers4_clip_state(model), str(folder / "model.safetensors"), metadata={"format": "pt"})


def write_sdxl_diffusers(folder: Path, arch: ArchConfig, seed: int = 0, unet_shard_bytes: int | None = None) -> Path:
    """The whole folder; `unet_shard_bytes` shards the UNet as diffusers does past its size limit."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model_index.json").write_text(json.dumps(MODEL_INDEX, indent=2))
    unet = seeded_unet(arch, seed)
    shard = {"max_shard_size": unet_shard_bytes} if unet_shard_bytes else {}
    unet.save_pretrained(folder / "unet", safe_serialization=True, **shard)
    del unet
    write_text_encoder(folder / "text_encoder", seeded_text_encoder(arch, False, seed + 1))
    text_encoder_2 = seeded_text_encoder(arch, True, seed + 2)
    text_encoder_2.save_pretrained(folder / "text_encoder_2")
    del text_encoder_2
    seeded_vae(arch, seed + 3).save_pretrained(folder / "vae", safe_serialization=True)
    return folder
