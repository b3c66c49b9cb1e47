"""Strict loaders from the published files into the exporter's modules (one function per source).

Every loader refuses missing, unexpected or mis-shaped tensors by name
(strict_load.load_strict). `arch` is REAL for real bundles; tests pass TINY
with files written in the same formats.
"""

from pathlib import Path

import torch

from ..config import ArchConfig
from ..models.bisenet import BiSeNet
from ..models.denoiser import Denoiser, build_identitynet, build_unet
from ..models.eva_vit import EvaVisionTower
from ..models.id_mlp import IdEncoderMlp
from ..models.resampler import Resampler
from ..models.retinaface import RetinaFace
from ..models.text_encoders import build_clip_g, build_clip_l
from ..models.vae_decoder import build_vae
from ..strict_load import WeightMismatchError, load_strict, take_prefix
from .weights import read_tensors, strip_prefix

# Buffers transformers recomputes; old CLIP checkpoints store them, new ones do not.
CLIP_DERIVED = ["text_model.embeddings.position_ids"]


def load_identitynet(path: Path, arch: ArchConfig):
    model = build_identitynet(arch)
    load_strict(model, read_tensors(path), f"IdentityNet {path.name}")
    return model


def load_pulid(path: Path, denoiser: Denoiser, id_mlp: IdEncoderMlp) -> None:
    """`image_proj.*` -> IDEncoder; `ip_adapter.N.to_{k,v}_ip.weight` -> the ID attention of layer N. Nothing else."""
    tensors = read_tensors(path)
    others = sorted(k for k in tensors if not k.startswith(("image_proj.", "ip_adapter.")))
    if others:
        hint = ""
        if any(k.startswith(("id_adapter.", "id_adapter_attn_layers.")) for k in others):
            hint = " (this is PuLID's original .bin layout; pass the ComfyUI file ip-adapter_pulid_sdxl_fp16.safetensors)"
        raise WeightMismatchError(f"PuLID {path.name}: unexpected tensors outside image_proj/ip_adapter{hint}: {others[:12]}")
    if any(k.startswith("image_proj.latents") or ".layers." in k for k in tensors if k.startswith("image_proj.")):
        raise WeightMismatchError(f"PuLID {path.name}: image_proj is a perceiver (PuLID v1.1 IDFormer); EcomID uses the v1 MLP IDEncoder")
    load_strict(id_mlp, take_prefix(tensors, "image_proj."), f"PuLID {path.name} (image_proj)")
    load_strict(denoiser.id_attention, take_prefix(tensors, "ip_adapter."), f"PuLID {path.name} (ip_adapter)")


def load_instantid_resampler(path: Path, resampler: Resampler) -> None:
    """ip-adapter.bin holds {"image_proj": ..., "ip_adapter": ...}; EcomID uses only the Resampler."""
    data = read_tensors(path)
    if "image_proj" not in data:
        raise WeightMismatchError(f"InstantID {path.name}: no image_proj section (found {sorted(data)[:8]})")
    load_strict(resampler, data["image_proj"], f"InstantID {path.name} (image_proj)")


def load_eva(path: Path, tower: EvaVisionTower) -> None:
    tensors = take_prefix(read_tensors(path), "visual.")
    if not tensors:
        raise WeightMismatchError(f"EVA-CLIP {path.name}: no visual.* tensors")
    load_strict(tower, tensors, f"EVA-CLIP {path.name} (visual)", derived_keys=tower.derived_checkpoint_keys())


def load_facexlib(folder: Path, arch: ArchConfig) -> tuple[RetinaFace, BiSeNet]:
    detector = RetinaFace(arch.retinaface_widths, arch.retinaface_blocks)
    load_strict(detector, strip_prefix(read_tensors(folder / "detection_Resnet50_Final.pth"), "module."),
                "facexlib detection_Resnet50_Final.pth")
    parser = BiSeNet(arch.bisenet_widths)
    load_strict(parser, read_tensors(folder / "parsing_bisenet.pth"), "facexlib parsing_bisenet.pth")
    return detector, parser


def load_sdxl(path: Path, arch: ArchConfig):
    """(unet, clip_l, clip_g, vae) from a diffusers folder or a single SDXL .safetensors."""
    unet, clip_l, clip_g, vae = build_unet(arch), build_clip_l(arch), build_clip_g(arch), build_vae(arch)
    if path.is_dir():
        parts = {"unet": unet, "text_encoder": clip_l.model, "text_encoder_2": clip_g.model, "vae": vae}
        for folder, module in parts.items():
            load_strict(module, _read_diffusers_part(path / folder), f"SDXL {path.name}/{folder}", derived_keys=CLIP_DERIVED)
        return unet, clip_l, clip_g, vae
    from diffusers.loaders import single_file_utils as sf  # noqa: PLC0415

    checkpoint = read_tensors(path)
    load_strict(unet, sf.convert_ldm_unet_checkpoint(checkpoint, dict(unet.config)), f"SDXL {path.name} (UNet)")
    load_strict(clip_l.model, sf.convert_ldm_clip_checkpoint(checkpoint), f"SDXL {path.name} (CLIP-L)",
                derived_keys=CLIP_DERIVED)
    load_strict(clip_g.model, sf.convert_open_clip_checkpoint(clip_g.model, checkpoint, prefix="conditioner.embedders.1.model."),
                f"SDXL {path.name} (OpenCLIP-bigG)", derived_keys=CLIP_DERIVED)
    load_strict(vae, sf.convert_ldm_vae_checkpoint(checkpoint, dict(vae.config)), f"SDXL {path.name} (VAE)")
    return unet, clip_l, clip_g, vae


def load_vae_override(path: Path, vae) -> None:
    """The fp16-fix VAE: a diffusers folder or its diffusion_pytorch_model.safetensors."""
    tensors = _read_diffusers_part(path) if path.is_dir() else read_tensors(path)
    load_strict(vae, tensors, f"VAE {path.name}")


def _read_diffusers_part(folder: Path) -> dict[str, torch.Tensor]:
    for name in ("diffusion_pytorch_model.safetensors", "model.safetensors", "diffusion_pytorch_model.fp16.safetensors",
                 "model.fp16.safetensors"):
        if (folder / name).is_file():
            return {k: v.float() for k, v in read_tensors(folder / name).items()}
    raise FileNotFoundError(f"no safetensors weights in {folder}")
