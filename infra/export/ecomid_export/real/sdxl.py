"""SDXL's UNet, CLIP-L, OpenCLIP-bigG and VAE from a diffusers folder or a single SGM/LDM .safetensors.

Single files are converted with diffusers' own LDM-to-diffusers key maps and our fixed SDXL configs, so no
config is fetched from a hub. What is not SDXL base is refused by name (sdxl_refusals.py).
"""

from pathlib import Path

import torch

from ..config import ArchConfig
from ..models.denoiser import build_unet
from ..models.text_encoders import build_clip_g, build_clip_l
from ..models.vae_decoder import build_vae
from ..strict_load import load_strict
from .materialize import materialized
from .sdxl_refusals import refuse_foreign_sdxl_folder, refuse_foreign_single_file
from .weights import read_component, read_tensors, strip_prefix

# Buffers transformers recomputes; old CLIP checkpoints store them, new ones do not.
CLIP_DERIVED = ["text_model.embeddings.position_ids", "embeddings.position_ids"]
SINGLE_FILE_CLIP_L = "conditioner.embedders.0.transformer."
SINGLE_FILE_OPEN_CLIP_G = "conditioner.embedders.1.model."


def clip_text_tensors(model, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Published CLIP text weights (SDXL's text_encoder/model.safetensors, a single file's
    conditioner.embedders.0.transformer.text_model.*) were written by transformers 4, whose CLIPTextModel
    wrapped a `text_model`. The pinned transformers flattened CLIPTextModel (not ...WithProjection) and drops
    that prefix in its own loader, as diffusers' single-file loader does too; so do we, and nothing more:
    strict loading still names any tensor that differs."""
    return tensors if hasattr(model, "text_model") else strip_prefix(tensors, "text_model.")


SDXL_PARTS = ("unet", "clip_l", "clip_g", "vae")


def load_sdxl(path: Path, arch: ArchConfig):
    """(unet, clip_l, clip_g, vae) from a diffusers folder or a single SDXL .safetensors."""
    parts = load_sdxl_parts(path, arch, SDXL_PARTS)
    return tuple(parts[p] for p in SDXL_PARTS)


def load_sdxl_parts(path: Path, arch: ArchConfig, parts: tuple[str, ...], unet_dtype: torch.dtype = torch.float32) -> dict:
    """Only the parts asked for, each read from the (mapped) file(s) when built: the export loads one graph's
    weights at a time. The UNet is allocated in `unet_dtype` from the start (fp16: 5 GB, not 10)."""
    modules = {"unet": lambda: materialized(lambda: build_unet(arch), unet_dtype), "clip_l": lambda: build_clip_l(arch),
               "clip_g": lambda: build_clip_g(arch), "vae": lambda: build_vae(arch)}
    built = {name: modules[name]() for name in parts}
    targets = {name: (m.model if name.startswith("clip") else m) for name, m in built.items()}
    if path.is_dir():
        _load_folder(path, targets)
    else:
        _load_single_file(path, targets)
    return built


def _load_folder(path: Path, targets: dict) -> None:
    refuse_foreign_sdxl_folder(path)
    folders = {"unet": "unet", "clip_l": "text_encoder", "clip_g": "text_encoder_2", "vae": "vae"}
    for name, model in targets.items():
        folder = folders[name]
        tensors = read_component(path / folder)
        source = f"SDXL {path.name}/{folder}"
        if name == "vae":
            load_vae_tensors(model, tensors, source)
        elif name == "unet":
            load_strict(model, tensors, source)
        else:
            load_strict(model, clip_text_tensors(model, tensors), source, derived_keys=CLIP_DERIVED)


def _load_single_file(path: Path, targets: dict) -> None:
    from diffusers.loaders import single_file_utils as sf  # noqa: PLC0415 - heavy; only this path needs it

    checkpoint = read_tensors(path)
    refuse_foreign_single_file(path, checkpoint)
    if "unet" in targets:
        unet = targets["unet"]
        load_strict(unet, sf.convert_ldm_unet_checkpoint(checkpoint, dict(unet.config)), f"SDXL {path.name} (UNet)")
    if "clip_l" in targets:
        clip_l = targets["clip_l"]
        tensors = sf.convert_ldm_clip_checkpoint(checkpoint)  # strips SINGLE_FILE_CLIP_L
        load_strict(clip_l, clip_text_tensors(clip_l, tensors), f"SDXL {path.name} (CLIP-L, {SINGLE_FILE_CLIP_L}*)",
                    derived_keys=CLIP_DERIVED)
    if "clip_g" in targets:
        clip_g = targets["clip_g"]
        load_strict(clip_g, sf.convert_open_clip_checkpoint(clip_g, checkpoint, prefix=SINGLE_FILE_OPEN_CLIP_G),
                    f"SDXL {path.name} (OpenCLIP-bigG, {SINGLE_FILE_OPEN_CLIP_G}*)", derived_keys=CLIP_DERIVED)
    if "vae" in targets:
        vae = targets["vae"]
        load_strict(vae, sf.convert_ldm_vae_checkpoint(checkpoint, dict(vae.config)), f"SDXL {path.name} (VAE)")


def load_vae_tensors(vae, tensors: dict[str, torch.Tensor], source: str) -> None:
    """Diffusers-layout VAE weights, new or old attention names: VAEs saved before diffusers 0.14 name the mid
    block's attention query/key/value/proj_attn; diffusers renames them on load (ModelMixin's
    `_fix_state_dict_keys_on_load`) and so do we, with that very function."""
    load_strict(vae, vae._fix_state_dict_keys_on_load(dict(tensors)), source)


def load_vae_override(path: Path, vae) -> None:
    """The fp16-fix VAE: a diffusers folder, its diffusion_pytorch_model.safetensors, or the single-file
    (LDM layout) sdxl_vae.safetensors published beside them."""
    tensors = read_component(path) if path.is_dir() else read_tensors(path)
    if any(k.startswith(("encoder.down.", "decoder.up.")) for k in tensors):
        from diffusers.loaders import single_file_utils as sf  # noqa: PLC0415

        tensors = sf.convert_ldm_vae_checkpoint(tensors, dict(vae.config))
    load_vae_tensors(vae, tensors, f"VAE {path.name}")
