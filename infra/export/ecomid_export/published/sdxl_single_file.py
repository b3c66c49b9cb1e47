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
from safetensors.torch import save_file

from ..config import ArchConfig
from .random_weights import random_state
from .sdxl_diffusers import seeded_text_encoder, seeded_unet, seeded_vae, transformers4_clip_state
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


def sgm_checkpoint(arch: ArchConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    unet = seeded_unet(arch, seed)
    blocks = unet.config
    up_has_attention = ["CrossAttn" in t for t in blocks.up_block_types]
    checkpoint = unet_to_ldm(unet.state_dict(), blocks.layers_per_block, up_has_attention)
    del unet
    clip_l = transformers4_clip_state(seeded_text_encoder(arch, False, seed + 1))
    clip_l["text_model.embeddings.position_ids"] = torch.arange(arch.max_text_length).unsqueeze(0)
    checkpoint.update({CLIP_L_PREFIX + k: v for k, v in clip_l.items()})
    open_clip = random_state(open_clip_text_layout(arch), seed + 2)
    open_clip["logit_scale"] = torch.tensor(4.6052)  # log(100), as CLIP trains it
    checkpoint.update({OPEN_CLIP_PREFIX + k: v for k, v in open_clip.items()})
    vae = seeded_vae(arch, seed + 3)
    checkpoint.update(vae_to_ldm(vae.state_dict(), len(vae.config.block_out_channels)))
    return {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in checkpoint.items()}


def write_sdxl_single_file(path: Path, arch: ArchConfig, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(sgm_checkpoint(arch, seed), str(path))
    return path
