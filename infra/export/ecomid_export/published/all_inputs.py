"""Every input of real mode, written in its published layout under one folder, with the CLI arguments that
build a bundle from them (as an operator would pass the downloaded files)."""

from dataclasses import dataclass
from pathlib import Path

from ..config import ArchConfig
from ..annotators import TABLE5_PIDINET, TINY_HED, TINY_PIDINET, CONTROLNET_HED
from ..config import TINY
from .antelopev2 import write_antelopev2
from .controlnet_aux import write_hed, write_pidinet
from .ecomxl_controlnets import write_ecomxl_controlnet
from .eva_clip import write_eva_clip
from .facexlib import write_facexlib
from .identitynet import write_identitynet
from .instantid import write_instantid_ip_adapter
from .pulid import write_pulid_comfyui
from .sdxl_diffusers import write_sdxl_diffusers
from .sdxl_single_file import write_sdxl_single_file
from .vae import write_fp16_fix_vae


@dataclass(frozen=True)
class PublishedInputs:
    sdxl: Path
    identitynet: Path
    pulid: Path
    instantid: Path
    eva_clip: Path
    facexlib: Path
    antelopev2: Path
    vae: Path | None
    inpaint_controlnet: Path | None = None
    softedge_controlnet: Path | None = None
    pidinet: Path | None = None
    hed: Path | None = None

    def cli_args(self) -> list[str]:
        args = ["--sdxl", self.sdxl, "--identitynet", self.identitynet, "--pulid", self.pulid, "--instantid",
                self.instantid, "--eva-clip", self.eva_clip, "--facexlib", self.facexlib, "--antelopev2", self.antelopev2]
        optional = [("--vae", self.vae), ("--inpaint-controlnet", self.inpaint_controlnet),
                    ("--softedge-controlnet", self.softedge_controlnet), ("--pidinet", self.pidinet), ("--hed", self.hed)]
        return [str(a) for a in args + [x for flag, path in optional if path for x in (flag, path)]]


def write_all_inputs(root: Path, arch: ArchConfig, scrfd_source: Path, arcface_source: Path, seed: int = 0,
                     sdxl_layout: str = "single-file", with_vae: bool = True, unet_shard_bytes: int | None = None,
                     log=print, with_controlnets: bool = False) -> PublishedInputs:
    """`sdxl_layout`: "single-file" (sd_xl_base_1.0.safetensors) or "diffusers" (a pipeline folder).
    `with_controlnets`: the EcomXL Inpaint and Softedge ControlNet folders and the soft-edge detectors' files too
    (optional inputs)."""
    root.mkdir(parents=True, exist_ok=True)
    steps = {
        "sdxl": lambda: (write_sdxl_single_file(root / "sd_xl_base_1.0.safetensors", arch, seed) if sdxl_layout == "single-file"
                         else write_sdxl_diffusers(root / "stable-diffusion-xl-base-1.0", arch, seed, unet_shard_bytes)),
        "identitynet": lambda: write_identitynet(root / "SDXL-EcomID", arch, seed + 10) / "diffusion_pytorch_model.safetensors",
        "pulid": lambda: write_pulid_comfyui(root / "ip-adapter_pulid_sdxl_fp16.safetensors", arch, seed + 20),
        "instantid": lambda: write_instantid_ip_adapter(root / "InstantID" / "ip-adapter.bin", arch, seed + 30),
        "eva_clip": lambda: write_eva_clip(root / "EVA02_CLIP_L_336_psz14_s6B.pt", arch, seed + 40),
        "facexlib": lambda: write_facexlib(root / "facexlib", arch, seed + 50),
        "antelopev2": lambda: write_antelopev2(root / "antelopev2", scrfd_source, arcface_source),
        "vae": lambda: write_fp16_fix_vae(root / "sdxl-vae-fp16-fix", arch, seed + 60) if with_vae else None,
        "inpaint_controlnet": lambda: write_ecomxl_controlnet(root, "inpaint", arch, seed + 70) if with_controlnets else None,
        "softedge_controlnet": lambda: write_ecomxl_controlnet(root, "softedge", arch, seed + 80) if with_controlnets else None,
        # lllyasviel/Annotators' two files, at the widths matching `arch` (the real ones, or tiny for tests).
        "pidinet": lambda: write_pidinet(root / "Annotators", TINY_PIDINET if arch is TINY else TABLE5_PIDINET, seed + 90)
        if with_controlnets else None,
        "hed": lambda: write_hed(root / "Annotators", TINY_HED if arch is TINY else CONTROLNET_HED, seed + 91)
        if with_controlnets else None,
    }
    paths = {}
    for name, write in steps.items():
        log(f"writing {name} ...")
        paths[name] = write()
    return PublishedInputs(**paths)
