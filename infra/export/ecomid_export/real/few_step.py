"""Few-step bases in real mode: which preset a bundle gets (few_step_presets.py), the SDXL-Lightning UNet
checkpoint that replaces the base's UNet, and the manifest sections the preset sets.

ByteDance/SDXL-Lightning (https://huggingface.co/ByteDance/SDXL-Lightning) publishes, per step count N:
`sdxl_lightning_{N}step_unet.safetensors` (the UNet alone, diffusers UNet2DConditionModel keys: the card loads it
with `unet.load_state_dict(load_file(...))` into SDXL base's UNet config), `sdxl_lightning_{N}step_lora.safetensors`
(N = 2, 4, 8) and `sdxl_lightning_{N}step.safetensors` (a whole SGM checkpoint for ComfyUI, usable as --sdxl).
The 1-step files are `sdxl_lightning_1step_unet_x0.safetensors` / `sdxl_lightning_1step_x0.safetensors`: the card
runs them with `prediction_type="sample"` (the UNet predicts x0), which the API's epsilon samplers cannot run, so
they are refused. SDXL Turbo (https://huggingface.co/stabilityai/sdxl-turbo) publishes a diffusers folder and
`sd_xl_turbo_1.0.safetensors` / `sd_xl_turbo_1.0_fp16.safetensors`, all SDXL base's architecture, loaded by
sdxl.py like any base. The preset is derived from these published names; renamed files need --few-step.
"""

import json
import re
from pathlib import Path

import torch

from ..config import ArchConfig
from ..models.denoiser import build_unet
from ..strict_load import WeightMismatchError, load_strict
from .few_step_presets import PRESETS
from .materialize import materialized
from .weights import read_tensors

LIGHTNING_NAME = re.compile(r"sdxl_lightning_(\d+)step(?:_unet|_lora)?(_x0)?\.safetensors$")
TURBO_NAME = re.compile(r"^sd_xl_turbo_.*\.safetensors$")
# What must agree between a folder's shipped scheduler config and the preset (spacing is the preset's to set: the
# Lightning card overrides SDXL base's "leading" with "trailing").
SCHEDULER_FIELDS = ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "prediction_type")
ONE_STEP_REFUSAL = ("is SDXL-Lightning's 1-step model, which predicts x0 (the model card runs it with "
                    "prediction_type=\"sample\"); the API's samplers implement epsilon prediction only: use the 2-, 4- "
                    "or 8-step file")


def preset_from_name(path: Path) -> str | None:
    """The preset a published file name states, None for other names; refuses the 1-step x0 files."""
    if TURBO_NAME.match(path.name):
        return "turbo"
    match = LIGHTNING_NAME.search(path.name)
    if not match:
        return None
    steps, x0 = int(match[1]), bool(match[2])
    if steps == 1 or x0:
        raise ValueError(f"{path.name} {ONE_STEP_REFUSAL}")
    name = f"lightning-{steps}step"
    if name not in PRESETS:
        raise ValueError(f"{path.name}: SDXL-Lightning publishes 2-, 4- and 8-step files, not {steps}-step")
    return name


def resolve_few_step(explicit: str | None, sdxl: Path | None, lightning_unet: Path | None, loras: list[Path]) -> str | None:
    """The bundle's few-step preset: --few-step, or what the Lightning files' names state; they must agree."""
    derived = {p.name: preset_from_name(p) for p in [sdxl, lightning_unet, *loras] if p is not None}
    stated = {name: preset for name, preset in derived.items() if preset}
    if len(set(stated.values())) > 1:
        raise ValueError(f"the Lightning files are for different step counts: {stated}")
    implied = next(iter(stated.values()), None)
    if explicit and implied and explicit != implied:
        raise ValueError(f"--few-step {explicit} contradicts {next(iter(stated))} ({implied})")
    if lightning_unet is not None and not (explicit or implied):
        raise ValueError(f"--lightning-unet {lightning_unet.name}: name its step count with --few-step lightning-Nstep")
    if sdxl is not None and not (explicit or implied) and _shipped_spacing(sdxl) == "trailing":
        # A base that ships a trailing schedule is a few-step model (SDXL Turbo's folder); its 25-step defaults
        # would be wrong, so its preset must be named.
        raise ValueError(f"SDXL {sdxl.name} ships a trailing-spacing scheduler (a few-step model such as SDXL Turbo): "
                         f"pass --few-step ({', '.join(PRESETS)})")
    return explicit or implied


def _shipped_scheduler(sdxl: Path) -> dict | None:
    config_file = sdxl / "scheduler" / "scheduler_config.json"
    return json.loads(config_file.read_text()) if sdxl.is_dir() and config_file.is_file() else None


def _shipped_spacing(sdxl: Path) -> str | None:
    return (_shipped_scheduler(sdxl) or {}).get("timestep_spacing")


def base_unet(args, arch: ArchConfig, dtype: torch.dtype) -> torch.nn.Module:
    """The denoiser's UNet: the Lightning UNet checkpoint if given, else the base's; then every --lora fused in."""
    from .lora_fuse import fuse_lora  # noqa: PLC0415
    from .sdxl import load_sdxl_parts  # noqa: PLC0415

    lightning = getattr(args, "lightning_unet", None)
    unet = (load_lightning_unet(lightning, arch, dtype) if lightning
            else load_sdxl_parts(args.sdxl, arch, ("unet",), unet_dtype=dtype)["unet"])
    for lora in getattr(args, "lora", None) or []:
        fuse_lora(unet, lora)
    return unet


def load_lightning_unet(path: Path, arch: ArchConfig, dtype: torch.dtype) -> torch.nn.Module:
    """A Lightning UNet checkpoint in place of the base's UNet, loaded strictly (every SDXL UNet tensor)."""
    preset_from_name(path)  # refuses the 1-step x0 file even when given alone
    tensors = read_tensors(path)
    if any(k.startswith("model.diffusion_model.") for k in tensors):
        raise WeightMismatchError(
            f"Lightning UNet {path.name} is a whole SGM checkpoint (model.diffusion_model.*): pass it as --sdxl with "
            "--few-step lightning-Nstep, or pass sdxl_lightning_Nstep_unet.safetensors here")
    unet = materialized(lambda: build_unet(arch), dtype)
    load_strict(unet, tensors, f"Lightning UNet {path.name}")
    return unet


def check_shipped_scheduler(sdxl: Path, preset: str) -> None:
    """A diffusers folder ships scheduler/scheduler_config.json (SDXL Turbo's: EulerAncestralDiscreteScheduler,
    trailing); its noise schedule must be the one the preset's samplers assume."""
    shipped = _shipped_scheduler(sdxl)
    if shipped is None:
        return
    wanted = PRESETS[preset]["scheduler"]
    differing = [f"{k}: folder {shipped.get(k)!r}, preset {wanted[k]!r}" for k in SCHEDULER_FIELDS if k in shipped
                 and shipped[k] != wanted[k]]
    if differing:
        raise WeightMismatchError(f"SDXL {sdxl.name}'s scheduler_config.json does not fit the {preset} preset: "
                                  + "; ".join(differing))


def apply_preset(header: dict, preset: str) -> dict:
    """The manifest header with the preset's scheduler, defaults and limits (the rest of both kept), and the
    preset's weights' licence among the bundle's sources."""
    chosen = PRESETS[preset]
    defaults = {**header["defaults"], **chosen["defaults"]}
    limits = {**header["limits"], **chosen["limits"]}
    source = "sdxl-turbo" if preset == "turbo" else "sdxl-lightning"
    return {**header, "scheduler": dict(chosen["scheduler"]), "defaults": defaults, "limits": limits,
            "extra_sources": [*header.get("extra_sources", []), source]}
