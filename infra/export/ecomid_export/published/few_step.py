"""The few-step bases' files in their published layouts.

- SDXL-Lightning UNet, `sdxl_lightning_{N}step_unet.safetensors` (https://huggingface.co/ByteDance/SDXL-Lightning):
  the diffusers UNet2DConditionModel state dict of SDXL base's UNet config, fp16 (the card loads it with
  safetensors' `load_file` straight into `UNet2DConditionModel.from_config(base, subfolder="unet")`), written here
  with safetensors' save_file from a diffusers UNet.
- SDXL Turbo as a diffusers folder (https://huggingface.co/stabilityai/sdxl-turbo): SDXL base's folder layout
  (sdxl_diffusers.py) with model_index.json naming EulerAncestralDiscreteScheduler and the scheduler/
  scheduler_config.json that repository ships (EulerAncestralDiscreteScheduler, beta 0.00085..0.012
  scaled_linear, 1000 steps, steps_offset 1, epsilon, timestep_spacing "trailing"), written by diffusers'
  save_config.
"""

import json
from pathlib import Path

import torch
from diffusers import EulerAncestralDiscreteScheduler
from safetensors.torch import save_file

from ..config import ArchConfig
from .sdxl_diffusers import MODEL_INDEX, seeded_unet, write_sdxl_diffusers

TURBO_SCHEDULER = {"beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False,
                   "interpolation_type": "linear", "num_train_timesteps": 1000, "prediction_type": "epsilon",
                   "sample_max_value": 1.0, "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
                   "timestep_spacing": "trailing", "trained_betas": None}


def write_lightning_unet(path: Path, arch: ArchConfig, seed: int = 90) -> Path:
    unet = seeded_unet(arch, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.to(torch.float16).contiguous() for k, v in unet.state_dict().items()}, str(path))
    return path


def write_turbo_folder(folder: Path, arch: ArchConfig, seed: int = 100, scheduler: dict | None = None) -> Path:
    """`scheduler` overrides fields of the shipped scheduler config (tests of a foreign schedule)."""
    write_sdxl_diffusers(folder, arch, seed)
    (folder / "model_index.json").write_text(json.dumps(
        {**MODEL_INDEX, "scheduler": ["diffusers", "EulerAncestralDiscreteScheduler"]}, indent=2))
    config = {**TURBO_SCHEDULER, **(scheduler or {})}
    # from_config, as diffusers loads the shipped file: the fields this diffusers no longer has are dropped.
    EulerAncestralDiscreteScheduler.from_config(config).save_config(folder / "scheduler")
    return folder
