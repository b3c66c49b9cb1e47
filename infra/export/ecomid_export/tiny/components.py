"""The tiny bundle's PyTorch modules, each from its own seed so changing one never reshuffles the others."""

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..config import TINY, ArchConfig
from ..models.arcface import ArcFaceResNet
from ..models.bisenet import BiSeNet
from diffusers import ControlNetModel

from ..models.denoiser import Denoiser, build_identitynet, build_sdxl_controlnet, build_unet
from ..models.id_encoder import IdEncoder
from ..models.id_prep import IdPrep
from ..models.resampler import Resampler
from ..models.text_encoders import build_clip_g, build_clip_l
from ..models.vae_decoder import VaeDecoder, build_vae
from .fit_scrfd import fit_scrfd
from .random_init import enliven


@dataclass
class Components:
    arch: ArchConfig
    clip_l: nn.Module
    clip_g: nn.Module
    denoiser: Denoiser
    vae_decoder: nn.Module
    resampler: Resampler
    id_encoder: IdEncoder
    id_prep: IdPrep
    arcface: nn.Module
    scrfd: nn.Module
    # The EcomXL Inpaint and Softedge ControlNets' tiny stand-ins, and the denoiser variants the bundle ships
    # (each a list of the extra ControlNets beside IdentityNet).
    extra_controlnets: dict[str, ControlNetModel]
    denoiser_variants: list[list[str]]

    @property
    def denoiser_no_control(self) -> Denoiser:
        return self.denoiser.without_identitynet()

    def denoiser_variant(self, extra: list[str]) -> Denoiser:
        return self.denoiser.with_extra({name: self.extra_controlnets[name] for name in extra})


# One variant with both EcomXL ControlNets: the pipeline feeds a zero image and scale 0 to the one a job does not
# use (the manifest's denoiser_variants rule), and the bundle stays small (infra/export/README.md weighs variants).
TINY_DENOISER_VARIANTS = [["inpaint", "softedge"]]


def _seeded(seed: int, build):
    torch.manual_seed(seed)
    return enliven(build(), torch.Generator().manual_seed(seed + 1000))


def build_tiny_components(images_dir: Path, seed: int = 0) -> Components:
    arch = TINY
    return Components(
        arch=arch,
        clip_l=_seeded(seed + 1, lambda: build_clip_l(arch)),
        clip_g=_seeded(seed + 2, lambda: build_clip_g(arch)),
        denoiser=_seeded(seed + 3, lambda: Denoiser(build_unet(arch), build_identitynet(arch), arch.cross_attention_dim)),
        vae_decoder=_seeded(seed + 4, lambda: VaeDecoder(build_vae(arch))),
        resampler=_seeded(seed + 5, lambda: Resampler(arch.resampler, arch.cross_attention_dim)),
        id_encoder=_seeded(seed + 6, lambda: IdEncoder(arch)),
        id_prep=_seeded(seed + 7, lambda: IdPrep(BiSeNet(arch.bisenet_widths))),
        arcface=_seeded(seed + 8, lambda: ArcFaceResNet(arch.arcface_widths)),
        scrfd=fit_scrfd(images_dir, arch.scrfd_width, seed=seed + 10),
        extra_controlnets={"inpaint": _seeded(seed + 11, lambda: build_sdxl_controlnet(arch)),
                           "softedge": _seeded(seed + 12, lambda: build_sdxl_controlnet(arch))},
        denoiser_variants=TINY_DENOISER_VARIANTS,
    )
