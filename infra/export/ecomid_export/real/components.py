"""Each graph's PyTorch module, built from the published files when its turn comes and dropped after, so the
export holds one graph's weights at a time. The denoisers (UNet + IdentityNet + ID attention, 4.2 B
parameters) are allocated in their export dtype from the start: fp16 needs 8.4 GB, where loading in fp32 and
halving needed 16.8 GB and then 25."""

from pathlib import Path
from types import SimpleNamespace

import torch

from ..config import ArchConfig
from ..models.denoiser import Denoiser
from ..models.id_encoder import IdEncoder
from ..models.id_prep import IdPrep
from ..models.resampler import Resampler
from ..models.vae_decoder import VaeDecoder
from .few_step import base_unet
from .loaders import load_ecomxl_controlnet, load_eva, load_facexlib_parser, load_identitynet, load_instantid_resampler, load_pulid
from .sdxl import load_sdxl_parts, load_vae_override


def extra_controlnet_folders(args) -> dict[str, Path]:
    """The EcomXL ControlNets given on the command line, by name."""
    given = {"inpaint": getattr(args, "inpaint_controlnet", None), "softedge": getattr(args, "softedge_controlnet", None)}
    return {name: folder for name, folder in given.items() if folder is not None}


def denoiser_variants(args) -> list[list[str]]:
    """One gated graph with every EcomXL ControlNet given (infra/export/README.md: why not one per combination)."""
    extra = list(extra_controlnet_folders(args))
    return [extra] if extra else []


def build_denoiser(args, arch: ArchConfig, with_control: bool, dtype: torch.dtype, extra: list[str] = ()) -> Denoiser:
    unet = base_unet(args, arch, dtype)  # the base's, or a Lightning UNet; LoRAs fused in
    identitynet = load_identitynet(args.identitynet, arch, dtype) if with_control else None
    with torch.device("meta"):  # the ID attention processors: allocated below, in dtype
        denoiser = Denoiser(unet, identitynet, arch.cross_attention_dim)
    denoiser.id_attention.to(dtype).to_empty(device="cpu")
    load_pulid(args.pulid, denoiser, None)
    if extra:
        folders = extra_controlnet_folders(args)
        denoiser = denoiser.with_extra({name: load_ecomxl_controlnet(name, folders[name], arch, dtype) for name in extra})
    return denoiser.eval()


def build_id_encoder(args, arch: ArchConfig) -> IdEncoder:
    id_encoder = IdEncoder(arch)
    load_pulid(args.pulid, None, id_encoder.mlp)
    load_eva(args.eva_clip, id_encoder.eva)
    return id_encoder.eval()


def build_resampler(args, arch: ArchConfig) -> Resampler:
    resampler = Resampler(arch.resampler, arch.cross_attention_dim)
    load_instantid_resampler(args.instantid, resampler)
    return resampler.eval()


def build_vae_decoder(args, arch: ArchConfig) -> VaeDecoder:
    vae = load_sdxl_parts(args.sdxl, arch, ("vae",))["vae"]
    if args.vae:
        load_vae_override(args.vae, vae)
    return VaeDecoder(vae).eval()


def lazy_components(args, arch: ArchConfig, denoiser_dtype: torch.dtype) -> SimpleNamespace:
    """What graph_plan needs, each a function that builds the module (bundle_writer.export_all calls it)."""
    return SimpleNamespace(
        arch=arch,
        clip_l=lambda: load_sdxl_parts(args.sdxl, arch, ("clip_l",))["clip_l"].eval(),
        clip_g=lambda: load_sdxl_parts(args.sdxl, arch, ("clip_g",))["clip_g"].eval(),
        denoiser=lambda: build_denoiser(args, arch, True, denoiser_dtype),
        denoiser_no_control=lambda: build_denoiser(args, arch, False, denoiser_dtype),
        vae_decoder=lambda: build_vae_decoder(args, arch),
        resampler=lambda: build_resampler(args, arch),
        id_encoder=lambda: build_id_encoder(args, arch),
        id_prep=lambda: IdPrep(load_facexlib_parser(args.facexlib, arch)).eval(),
        arcface=None, scrfd=None,
        denoiser_variants=denoiser_variants(args),
        denoiser_variant=lambda extra: build_denoiser(args, arch, True, denoiser_dtype, extra),
    )
