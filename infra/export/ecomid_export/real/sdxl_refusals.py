"""Checkpoints that are not SDXL base, named for what they are, with what to use instead.

Recognised by the keys each family's files carry (the same marker keys diffusers' single-file loader uses to
tell them apart: CHECKPOINT_KEY_NAMES in diffusers/loaders/single_file_utils.py) and, for diffusers folders, by
the UNet's cross-attention width and the text encoders present.
"""

import json
from pathlib import Path

from ..strict_load import WeightMismatchError

USE_INSTEAD = ("EcomID needs an SDXL base-architecture checkpoint: SDXL base 1.0 (sd_xl_base_1.0.safetensors), EcomXL "
               "or another SDXL fine-tune such as DreamShaper-XL, as one .safetensors or a diffusers folder")
# (marker key prefix, what the file is) for single-file checkpoints, most specific first.
SINGLE_FILE_FAMILIES = [
    ("cond_stage_model.transformer.", "a Stable Diffusion 1.x checkpoint (CLIP ViT-L text encoder under cond_stage_model)"),
    ("cond_stage_model.model.", "a Stable Diffusion 2.x checkpoint (OpenCLIP-H text encoder under cond_stage_model)"),
    ("conditioner.embedders.0.model.", "the SDXL refiner (it has only the OpenCLIP-bigG encoder)"),
    ("text_encoders.", "a Stable Diffusion 3 checkpoint"),
    ("double_blocks.", "a FLUX checkpoint"),
    ("control_model.", "a ControlNet, not an SDXL checkpoint (pass it as --identitynet only if it is EcomID's IdentityNet)"),
]
SDXL_MARKERS = ("model.diffusion_model.", "conditioner.embedders.0.transformer.", "conditioner.embedders.1.model.",
                "first_stage_model.")
# UNet cross_attention_dim of the families a diffusers folder may hold.
FOLDER_FAMILIES = {768: "a Stable Diffusion 1.x model", 1024: "a Stable Diffusion 2.x model",
                   1280: "the SDXL refiner"}


def refuse_foreign_single_file(path: Path, checkpoint: dict) -> None:
    for prefix, family in SINGLE_FILE_FAMILIES:
        if any(k.startswith(prefix) for k in checkpoint):
            raise WeightMismatchError(f"SDXL {path.name} is {family}. {USE_INSTEAD}.")
    missing = [m for m in SDXL_MARKERS if not any(k.startswith(m) for k in checkpoint)]
    if missing:
        raise WeightMismatchError(
            f"SDXL {path.name} is not a whole SDXL checkpoint: no tensors under {', '.join(missing)} "
            f"(a UNet-only or LoRA file?). {USE_INSTEAD}.")


def refuse_foreign_sdxl_folder(path: Path) -> None:
    config_file = path / "unet" / "config.json"
    if not config_file.is_file():
        raise WeightMismatchError(f"SDXL {path.name} is not a diffusers pipeline folder (no unet/config.json). {USE_INSTEAD}.")
    width = json.loads(config_file.read_text()).get("cross_attention_dim")
    if width in FOLDER_FAMILIES:
        raise WeightMismatchError(f"SDXL {path.name} is {FOLDER_FAMILIES[width]} (UNet cross_attention_dim {width}). {USE_INSTEAD}.")
    if not (path / "text_encoder_2").is_dir() or not (path / "text_encoder").is_dir():
        raise WeightMismatchError(f"SDXL {path.name} lacks text_encoder/ or text_encoder_2/ (SDXL has both). {USE_INSTEAD}.")
