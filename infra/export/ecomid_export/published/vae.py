"""SDXL VAEs published apart from a checkpoint.

- madebyollin/sdxl-vae-fp16-fix: a diffusers AutoencoderKL folder (config.json with force_upcast false, scaling
  factor 0.13025; diffusion_pytorch_model.safetensors in fp32), beside `sdxl_vae.safetensors`, the same weights
  in the LDM layout for single-file tools. Written by diffusers' save_pretrained; the LDM file through
  sgm_keys.py's names without the `first_stage_model.` prefix.
- A VAE saved before diffusers 0.14 names its mid-block attention `query`, `key`, `value`, `proj_attn`
  (diffusers' ModelMixin._fix_state_dict_keys_on_load renames these on load, which is where the list comes
  from); many VAE uploads of that time still carry them. Written here by renaming, with safetensors.
"""

from pathlib import Path

from safetensors.torch import save_file

from ..config import ArchConfig
from .sdxl_diffusers import seeded_vae, vae_config
from .sgm_keys import vae_to_ldm

OLD_ATTENTION_NAMES = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}


def fp16_fix_vae(arch: ArchConfig, seed: int = 0):
    return seeded_vae(arch, seed, dict(vae_config(arch), force_upcast=False))


def write_fp16_fix_vae(folder: Path, arch: ArchConfig, seed: int = 0) -> Path:
    vae = fp16_fix_vae(arch, seed)
    vae.save_pretrained(folder, safe_serialization=True)
    ldm = vae_to_ldm(vae.state_dict(), len(vae.config.block_out_channels))
    save_file({k.removeprefix("first_stage_model."): v.contiguous() for k, v in ldm.items()}, str(folder / "sdxl_vae.safetensors"))
    return folder


def old_attention_names(state: dict) -> dict:
    renamed = {}
    for key, value in state.items():
        for new, old in OLD_ATTENTION_NAMES.items():
            marker = f".mid_block.attentions.0.{new}."
            if marker in key:
                key = key.replace(marker, f".mid_block.attentions.0.{old}.")
        renamed[key] = value.contiguous()
    return renamed


def write_old_style_vae(folder: Path, arch: ArchConfig, seed: int = 0) -> Path:
    vae = seeded_vae(arch, seed)
    folder.mkdir(parents=True, exist_ok=True)
    vae.save_config(folder)
    save_file(old_attention_names(vae.state_dict()), str(folder / "diffusion_pytorch_model.safetensors"))
    return folder
