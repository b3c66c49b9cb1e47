"""SDXL as one .safetensors in the SGM/LDM layout: sd_xl_base_1.0.safetensors, EcomXL's and DreamShaper-XL's
single files. fp16, prefixes:

- `model.diffusion_model.*`: the UNet (sgm openaimodel names, sgm_keys.py);
- `conditioner.embedders.0.transformer.text_model.*`: CLIP-L as transformers 4 saved CLIPTextModel, with its
  `embeddings.position_ids` buffer (sgm/modules/encoders/modules.py FrozenCLIPEmbedder: `self.transformer`);
- `conditioner.embedders.1.model.*`: OpenCLIP-bigG's text tower in open_clip's own names, visual tower deleted
  (FrozenOpenCLIPEmbedder2: `self.model` = open_clip CLIP, `del model.visual`; mlfoundations/open_clip
  src/open_clip/model.py CLIP and transformer.py Transformer / ResidualAttentionBlock: token_embedding,
  positional_embedding, transformer.resblocks.N.{ln_1, attn.in_proj_*, attn.out_proj, ln_2, mlp.c_fc, mlp.c_proj},
  ln_final, text_projection [width, projection] applied as x @ text_projection, logit_scale);
- `first_stage_model.*`: the VAE (sgm autoencoder names, sgm_keys.py).

Key names are the ones diffusers' single-file loader recognises SDXL base by (CHECKPOINT_KEY_NAMES["xl_base"],
["clip_sdxl"], ["open_clip_sdxl"] in diffusers/loaders/single_file_utils.py).
"""

from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

from ..config import ArchConfig
from .random_weights import random_tensor
from .safetensors_stream import layout_of, write_safetensors
from .sdxl_diffusers import text_encoder_config, transformers4_clip_state, unet_config, vae_config
from .sgm_keys import unet_to_ldm, vae_to_ldm

CLIP_L_PREFIX = "conditioner.embedders.0.transformer."
OPEN_CLIP_PREFIX = "conditioner.embedders.1.model."


def open_clip_text_layout(arch: ArchConfig) -> dict[str, tuple[int, ...]]:
    g = arch.clip_g
    width, hidden = g.hidden_size, g.intermediate_size
    layout = {"positional_embedding": (arch.max_text_length, width), "token_embedding.weight": (arch.vocab_size, width),
              "ln_final.weight": (width,), "ln_final.bias": (width,), "text_projection": (width, g.projection_dim),
              "logit_scale": ()}
    for n in range(g.num_hidden_layers):
        block = f"transformer.resblocks.{n}."
        layout.update({
            block + "ln_1.weight": (width,), block + "ln_1.bias": (width,),
            block + "attn.in_proj_weight": (3 * width, width), block + "attn.in_proj_bias": (3 * width,),
            block + "attn.out_proj.weight": (width, width), block + "attn.out_proj.bias": (width,),
            block + "ln_2.weight": (width,), block + "ln_2.bias": (width,),
            block + "mlp.c_fc.weight": (hidden, width), block + "mlp.c_fc.bias": (hidden,),
            block + "mlp.c_proj.weight": (width, hidden), block + "mlp.c_proj.bias": (width,),
        })
    return layout


def sgm_layout(arch: ArchConfig) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Every tensor's name, shape and dtype: read off diffusers' and transformers' own modules built from SDXL's
    published configs on the meta device (no memory), renamed into the SGM layout."""
    with torch.device("meta"):
        unet = UNet2DConditionModel(**unet_config(arch))
        clip_l = CLIPTextModel(CLIPTextConfig(**text_encoder_config(arch, False)))
        vae = AutoencoderKL(**vae_config(arch))
    up_has_attention = ["CrossAttn" in t for t in unet.config.up_block_types]
    tensors = unet_to_ldm(unet.state_dict(), unet.config.layers_per_block, up_has_attention)
    tensors.update({CLIP_L_PREFIX + k: v for k, v in transformers4_clip_state(clip_l).items()})
    tensors.update(vae_to_ldm(vae.state_dict(), len(vae.config.block_out_channels)))
    layout = layout_of(tensors, torch.float16)
    layout[CLIP_L_PREFIX + "text_model.embeddings.position_ids"] = ((1, arch.max_text_length), torch.int64)
    layout.update({OPEN_CLIP_PREFIX + k: (shape, torch.float16) for k, shape in open_clip_text_layout(arch).items()})
    return layout


def write_sdxl_single_file(path: Path, arch: ArchConfig, seed: int = 0) -> Path:
    """Seeded values, one tensor at a time (a full-size file is 6.9 GB), in safetensors' own byte layout."""
    generator = torch.Generator().manual_seed(seed)
    fixed = {CLIP_L_PREFIX + "text_model.embeddings.position_ids": torch.arange(arch.max_text_length).unsqueeze(0),
             OPEN_CLIP_PREFIX + "logit_scale": torch.tensor(4.6052)}  # log(100), as CLIP trains it
    layout = sgm_layout(arch)
    return write_safetensors(path, layout, lambda name: fixed[name] if name in fixed else random_tensor(name, layout[name][0], generator))
