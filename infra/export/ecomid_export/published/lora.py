"""SDXL UNet LoRA files in the two published key layouts, written by the libraries that write them:

- diffusers / PEFT: `pytorch_lora_weights.safetensors` with `unet.<module path>.lora_A.weight` / `.lora_B.weight`
  and PEFT's LoraConfig in the `lora_adapter_metadata` header, as diffusers' `save_lora_weights` writes it (the
  SDXL LoRA training scripts, huggingface/diffusers examples/dreambooth/train_dreambooth_lora_sdxl.py, save this
  way), from an adapter PEFT injected into the UNet (`UNet2DConditionModel.add_adapter`).
- kohya: `lora_unet_<module path, dots as underscores>.lora_down.weight` / `.lora_up.weight` / `.alpha`, the layout
  of ByteDance/SDXL-Lightning's sdxl_lightning_{2,4,8}step_lora.safetensors (model card:
  https://huggingface.co/ByteDance/SDXL-Lightning, "LoRA checkpoint, for Diffusers and ComfyUI"), written with
  diffusers' own `convert_state_dict_to_kohya` (src/diffusers/utils/state_dict_utils.py). That converter stores
  alpha = rank; kohya-ss sd-scripts (networks/lora.py: LoRAModule's `alpha` buffer is the network's one
  `network_alpha`, or `conv_alpha` for 3x3 convolutions) stores other alphas, so the writer sets them as
  sd-scripts would (network_alpha 2, conv_alpha 1 at rank 4), for the alpha / rank scale to be exercised.
- kohya with SDXL's SGM module names (`lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q`,
  `lora_unet_output_blocks_2_0_in_layers_2`, ...), as kohya-ss sd-scripts' SDXL trainer names them (it trains
  the SGM UNet, sdxl_original_unet.py); renamed from the above with sgm_keys.py's diffusers-to-SGM map (itself
  checked against diffusers' single-file loader).

The adapter covers every kind of layer a UNet LoRA targets: attention projections, feed-forward and projection
Linears, 3x3 resnet convolutions, 1x1 shortcut convolutions, the time-embedding projections and the down/up
samplers' convolutions; its B matrices are random (PEFT initialises them to zero, which would fuse to nothing).
"""

from pathlib import Path

import torch
from diffusers import StableDiffusionXLPipeline
from diffusers.utils.state_dict_utils import convert_state_dict_to_kohya
from safetensors.torch import save_file

from ..config import ArchConfig
from .sdxl_diffusers import seeded_unet, unet_config
from .sgm_keys import unet_to_ldm

TARGET_MODULES = ["to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2", "conv1",
                  "conv2", "conv_shortcut", "time_emb_proj", "downsamplers.0.conv", "upsamplers.0.conv"]
RANK = 4
LORA_ALPHA = 8  # scale alpha / rank = 2 in the PEFT file


def seeded_lora_state(arch: ArchConfig, seed: int) -> tuple[dict[str, torch.Tensor], dict]:
    """PEFT's LoRA tensors (keys without the `unet.` prefix) and its LoraConfig as a dict, both random."""
    from peft import LoraConfig  # noqa: PLC0415 - only the fixture writers need PEFT
    from peft.utils import get_peft_model_state_dict  # noqa: PLC0415

    unet = seeded_unet(arch, seed)
    config = LoraConfig(r=RANK, lora_alpha=LORA_ALPHA, target_modules=TARGET_MODULES, init_lora_weights="gaussian")
    unet.add_adapter(config)
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in sorted(unet.named_parameters()):
            if ".lora_B." in name:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.1)
    return get_peft_model_state_dict(unet), config.to_dict()


def write_diffusers_lora(folder: Path, arch: ArchConfig, seed: int = 70) -> Path:
    """`folder`/pytorch_lora_weights.safetensors, written by diffusers' save_lora_weights."""
    state, config = seeded_lora_state(arch, seed)
    StableDiffusionXLPipeline.save_lora_weights(folder, unet_lora_layers=state, unet_lora_adapter_metadata=config,
                                                safe_serialization=True)
    return folder / "pytorch_lora_weights.safetensors"


NETWORK_ALPHA, CONV_ALPHA = 2.0, 1.0  # sd-scripts' --network_alpha and conv_alpha (3x3 convolutions)


def _save_kohya(path: Path, peft_state: dict[str, torch.Tensor]) -> Path:
    """diffusers' PEFT-to-kohya conversion of `unet.`-prefixed PEFT keys, alphas as sd-scripts sets them."""
    kohya = convert_state_dict_to_kohya(peft_state)
    for key in [k for k in kohya if k.endswith(".alpha")]:
        down = kohya[key.replace(".alpha", ".lora_down.weight")]
        kohya[key] = torch.tensor(CONV_ALPHA if down.ndim == 4 and down.shape[2] > 1 else NETWORK_ALPHA)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in kohya.items()}, str(path), metadata={"format": "pt"})
    return path


def write_kohya_lora(path: Path, arch: ArchConfig, seed: int = 80) -> Path:
    """One kohya-layout .safetensors with diffusers module names (e.g. sdxl_lightning_4step_lora.safetensors)."""
    state, _ = seeded_lora_state(arch, seed)
    return _save_kohya(path, {f"unet.{k}": v for k, v in state.items()})


def write_kohya_sgm_lora(path: Path, arch: ArchConfig, seed: int = 85) -> Path:
    """A kohya-layout file with SGM module names (sd-scripts' SDXL LoRAs)."""
    state, _ = seeded_lora_state(arch, seed)
    config = unet_config(arch)
    up_has_attention = ["CrossAttn" in t for t in config["up_block_types"]]
    renamed = {}
    for key, value in state.items():
        module, _, role = key.partition(".lora_")
        (sgm,) = unet_to_ldm({f"{module}.weight": None}, config["layers_per_block"], up_has_attention)
        renamed[f"unet.{sgm.removeprefix('model.diffusion_model.').removesuffix('.weight')}.lora_{role}"] = value
    return _save_kohya(path, renamed)
