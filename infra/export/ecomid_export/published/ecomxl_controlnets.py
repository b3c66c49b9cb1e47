"""The EcomXL Inpaint and Softedge ControlNets, as alimama-creative publishes them: diffusers ControlNet folders.

Layout sources: huggingface.co/alimama-creative/EcomXL_controlnet_inpaint and .../EcomXL_controlnet_softedge
("Files and versions": config.json, 1.32 kB, and diffusion_pytorch_model.safetensors, 2.5 GB, each; Apache-2.0 per
the model pages). Both are SDXL ControlNets trained with diffusers (their model cards load them with
`ControlNetModel.from_pretrained` into StableDiffusionXLControlNet pipelines) from the SDXL UNet, so their config is
diffusers' SDXL ControlNet config: the SDXL UNet's encoder fields, an RGB condition (conditioning_channels 3), the
same architecture fields as InstantID's ControlNet config (published/identitynet.py). That config could not be read
here (no network): strict loading names any field or tensor of the real files that differs.
"""

from pathlib import Path

from ..config import ArchConfig
from .identitynet import write_identitynet

FOLDERS = {"inpaint": "EcomXL_controlnet_inpaint", "softedge": "EcomXL_controlnet_softedge"}


def write_ecomxl_controlnet(root: Path, name: str, arch: ArchConfig, seed: int = 0, **changes) -> Path:
    """The folder `root/EcomXL_controlnet_<name>`: config.json by diffusers' save_config and the weights in the
    bytes save_pretrained writes (published/identitynet.py); `changes` make another ControlNet (refusal tests:
    an SD 1.5 one, one with a 4-channel condition)."""
    return write_identitynet(root / FOLDERS[name], arch, seed, with_config=True, **changes)
