"""LoRA files fused into the SDXL UNet at export time (W += scale * alpha / rank * up @ down), so any SDXL base can
become few-step with SDXL-Lightning's sdxl_lightning_{2,4,8}step_lora.safetensors
(https://huggingface.co/ByteDance/SDXL-Lightning: `pipe.load_lora_weights(...); pipe.fuse_lora()`, scale 1).

Two key styles, as diffusers reads them (huggingface/diffusers src/diffusers/loaders/lora_conversion_utils.py
`_convert_non_diffusers_lora_to_diffusers`; src/diffusers/utils/state_dict_utils.py `convert_state_dict_to_kohya`
writes the first from the second):
- kohya: `lora_unet_<module path, dots as underscores>.lora_down.weight`, `.lora_up.weight`, `.alpha` (a scalar);
  the module path is diffusers' UNet path, or SDXL's SGM UNet path (kohya-ss sd-scripts' SDXL trainer:
  `lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q`). It is looked up in a table of the UNet's own
  module paths in both spellings, not rewritten by string rules, so every key names exactly one module or is
  refused.
- diffusers / PEFT: `unet.<module path>.lora.down.weight` / `.lora.up.weight` (diffusers' older LoRA layers) or
  `unet.<module path>.lora_A.weight` / `.lora_B.weight` (PEFT), optionally `unet.<module path>.alpha`. Without an
  alpha, alpha = rank (diffusers' convention: utils/peft_utils.py `get_peft_kwargs`, "alpha == rank per module");
  a PEFT `lora_adapter_metadata` header (diffusers' `save_lora_weights`) gives `unet.lora_alpha`, `unet.r` and
  per-module `unet.alpha_pattern` / `unet.rank_pattern`, as PEFT's LoraConfig reads them.

The delta per target (PEFT's LoraLayer.get_delta_weight for Linear and Conv2d, which diffusers' fuse_lora calls):
Linear up[out, r] @ down[r, in]; a 1x1 convolution the same on the squeezed kernels; a k x k convolution
(down [r, in, k, k], up [out, r, 1, 1]) the kernel sum over r of up[o, r] * down[r, i, :, :].

Strict: every tensor of the file must be part of a complete (down, up[, alpha]) set whose module exists in the
UNet with fitting shapes; anything else stops the export with the file and key named. Text-encoder LoRA tensors
are refused too: only the UNet is fused (SDXL-Lightning's LoRAs hold UNet tensors only).
"""

import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..strict_load import WeightMismatchError
from .weights import read_tensors

KOHYA_UNET = "lora_unet_"
KOHYA_TEXT = ("lora_te_", "lora_te1_", "lora_te2_")
DIFFUSERS_UNET = "unet."
DIFFUSERS_TEXT = ("text_encoder.", "text_encoder_2.")
# (suffix, role) of each tensor of a LoRA pair, per key style.
KOHYA_SUFFIXES = ((".lora_down.weight", "down"), (".lora_up.weight", "up"), (".alpha", "alpha"))
DIFFUSERS_SUFFIXES = ((".lora.down.weight", "down"), (".lora.up.weight", "up"), (".lora_A.weight", "down"),
                      (".lora_B.weight", "up"), (".alpha", "alpha"))
FUSABLE = (torch.nn.Linear, torch.nn.Conv2d)


@dataclass
class LoraPair:
    """One target module's LoRA tensors, with the file keys they came from (for error messages)."""
    module: str
    keys: dict[str, str] = field(default_factory=dict)
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)


def fusable_modules(unet: torch.nn.Module) -> dict[str, torch.nn.Module]:
    return {name: m for name, m in unet.named_modules() if isinstance(m, FUSABLE)}


SGM_FIXED = {"time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
             "add_embedding.linear_1": "label_emb.0.0", "add_embedding.linear_2": "label_emb.0.2",
             "conv_in": "input_blocks.0.0", "conv_out": "out.2"}
SGM_RESNET = {"conv1": "in_layers.2", "conv2": "out_layers.3", "time_emb_proj": "emb_layers.1",
              "conv_shortcut": "skip_connection"}


def sgm_module_path(path: str, layers_per_block: int, up_has_attention: list[bool]) -> str | None:
    """The module's path in SDXL's SGM UNet (Stability-AI/generative-models sgm/modules/diffusionmodules/
    openaimodel.py: input_blocks / middle_block / output_blocks, ResBlock in_layers / emb_layers / out_layers /
    skip_connection), whose names kohya-ss sd-scripts' SDXL LoRAs carry (`lora_unet_input_blocks_4_1_...`);
    None for a module the SGM UNet names no other way."""
    if path in SGM_FIXED:
        return SGM_FIXED[path]
    per = layers_per_block + 1

    def resnet(rest: str) -> str:
        head, _, tail = rest.partition(".")
        return SGM_RESNET.get(head, head) + ("." + tail if tail else "")

    if m := re.fullmatch(r"down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)", path):
        index = 1 + int(m[1]) * per + int(m[3])
        return f"input_blocks.{index}.0.{resnet(m[4])}" if m[2] == "resnets" else f"input_blocks.{index}.1.{m[4]}"
    if m := re.fullmatch(r"down_blocks\.(\d+)\.downsamplers\.0\.conv", path):
        return f"input_blocks.{(int(m[1]) + 1) * per}.0.op"
    if m := re.fullmatch(r"mid_block\.resnets\.(\d+)\.(.+)", path):
        return f"middle_block.{2 * int(m[1])}.{resnet(m[2])}"
    if m := re.fullmatch(r"mid_block\.attentions\.0\.(.+)", path):
        return f"middle_block.1.{m[1]}"
    if m := re.fullmatch(r"up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)", path):
        index = int(m[1]) * per + int(m[3])
        return f"output_blocks.{index}.0.{resnet(m[4])}" if m[2] == "resnets" else f"output_blocks.{index}.1.{m[4]}"
    if m := re.fullmatch(r"up_blocks\.(\d+)\.upsamplers\.0\.conv", path):
        b = int(m[1])
        return f"output_blocks.{b * per + layers_per_block}.{2 if up_has_attention[b] else 1}.conv"
    return None


def kohya_names(unet: torch.nn.Module, modules: dict[str, torch.nn.Module]) -> dict[str, str]:
    """kohya name -> module path, in both spellings kohya files use: diffusers' module paths (the layout diffusers'
    convert_state_dict_to_kohya writes) and SDXL's SGM paths (sd-scripts' SDXL trainer). Refused if two modules
    collapse onto one name (none do in SDXL's UNet)."""
    config = unet.config
    up_has_attention = ["CrossAttn" in t for t in config.up_block_types]
    table: dict[str, str] = {}
    for path in modules:
        for spelling in {path, sgm_module_path(path, config.layers_per_block, up_has_attention)} - {None}:
            name = KOHYA_UNET + spelling.replace(".", "_")
            if table.get(name, path) != path:
                raise ValueError(f"UNet modules {table[name]} and {path} share the kohya name {name}")
            table[name] = path
    return table


def _split(key: str, suffixes) -> tuple[str, str] | None:
    for suffix, role in suffixes:
        if key.endswith(suffix):
            return key[: -len(suffix)], role
    return None


def lora_pairs(tensors: dict[str, torch.Tensor], unet: torch.nn.Module, source: str) -> list[LoraPair]:
    """Groups every tensor of the file by its target module; refuses any tensor without one."""
    modules = fusable_modules(unet)
    table = kohya_names(unet, modules)
    pairs: dict[str, LoraPair] = {}
    problems = []
    for key in sorted(tensors):
        if key.startswith(KOHYA_TEXT + DIFFUSERS_TEXT):
            problems.append(f"{key}: a text-encoder LoRA tensor (only the UNet is fused)")
            continue
        if key.startswith(KOHYA_UNET):
            split = _split(key, KOHYA_SUFFIXES)
            module = table.get(split[0]) if split else None
        elif key.startswith(DIFFUSERS_UNET):
            split = _split(key, DIFFUSERS_SUFFIXES)
            module = split[0][len(DIFFUSERS_UNET):] if split else None
            module = module if module in modules else None
        else:
            split, module = None, None
        if split is None:
            problems.append(f"{key}: not a LoRA key (expected lora_unet_*.lora_down/.lora_up/.alpha or "
                            "unet.*.lora_A/.lora_B/.lora.down/.lora.up/.alpha)")
            continue
        if module is None:
            problems.append(f"{key}: no Linear or Conv2d module {split[0]!r} in the SDXL UNet")
            continue
        pair = pairs.setdefault(module, LoraPair(module))
        role = split[1]
        if role in pair.keys:
            problems.append(f"{key}: a second {role} tensor for {module} (first: {pair.keys[role]})")
            continue
        pair.keys[role], pair.tensors[role] = key, tensors[key]
    for pair in pairs.values():
        lacking = [r for r in ("down", "up") if r not in pair.keys]
        if lacking:
            problems.append(f"{next(iter(pair.keys.values()))}: no {' or '.join(lacking)} tensor beside it")
    if problems:
        raise WeightMismatchError(f"LoRA {source}: {len(problems)} tensor(s) found no target in the UNet: "
                                  + "; ".join(problems[:12]) + (f" (and {len(problems) - 12} more)" if len(problems) > 12 else ""))
    return list(pairs.values())


def peft_metadata(path: Path) -> dict:
    """The `unet.`-prefixed entries of a safetensors file's `lora_adapter_metadata` header (diffusers'
    save_lora_weights writes PEFT's LoraConfig there), without the prefix; {} when there is none."""
    if path.suffix != ".safetensors":
        return {}
    with path.open("rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    raw = header.get("__metadata__", {}).get("lora_adapter_metadata")
    if not raw:
        return {}
    return {k[len(DIFFUSERS_UNET):]: v for k, v in json.loads(raw).items() if k.startswith(DIFFUSERS_UNET)}


def _pattern_value(patterns: dict, module: str):
    """PEFT's pattern lookup (peft/utils/other.py get_pattern_key): a pattern names the module itself or a
    suffix of its path at a dot."""
    for pattern, value in patterns.items():
        if module == pattern or module.endswith("." + pattern):
            return value
    return None


def pair_scale(pair: LoraPair, metadata: dict, source: str) -> float:
    """alpha / rank for one pair: the file's own alpha tensor, else the PEFT header, else 1 (alpha = rank)."""
    rank = pair.tensors["down"].shape[0]
    if "alpha" in pair.tensors:
        return float(pair.tensors["alpha"]) / rank
    if metadata:
        if metadata.get("use_rslora") or metadata.get("use_dora"):
            raise WeightMismatchError(f"LoRA {source}: rsLoRA/DoRA adapters are not fused (only plain LoRA)")
        alpha = _pattern_value(metadata.get("alpha_pattern") or {}, pair.module)
        declared_rank = _pattern_value(metadata.get("rank_pattern") or {}, pair.module) or metadata.get("r", rank)
        if declared_rank != rank:
            raise WeightMismatchError(f"LoRA {source}: {pair.keys['down']} has rank {rank}, its header says {declared_rank}")
        return float(alpha if alpha is not None else metadata.get("lora_alpha", rank)) / rank
    return 1.0


def check_fits(pair: LoraPair, module: torch.nn.Module, source: str) -> None:
    """Refuses a pair whose shapes do not fit its target (rank, in/out widths, kernel)."""
    down, up, weight = pair.tensors["down"], pair.tensors["up"], module.weight
    rank = down.shape[0]
    fits = up.ndim == down.ndim and up.shape[0] == weight.shape[0] and up.shape[1] == rank
    if isinstance(module, torch.nn.Linear):
        fits = fits and down.ndim == 2 and down.shape[1] == weight.shape[1]
    else:
        fits = fits and down.ndim == 4 and tuple(down.shape[1:]) == tuple(weight.shape[1:]) and tuple(up.shape[2:]) == (1, 1)
    if not fits:
        raise WeightMismatchError(
            f"LoRA {source}: {pair.keys['down']} {tuple(down.shape)} and {pair.keys['up']} {tuple(up.shape)} do not fit "
            f"{pair.module} ({type(module).__name__} weight {tuple(weight.shape)})")


def lora_delta(pair: LoraPair) -> torch.Tensor:
    """up @ down in the target weight's shape, in float32 (shapes already checked)."""
    down, up = pair.tensors["down"].float(), pair.tensors["up"].float()
    return up @ down if down.ndim == 2 else torch.einsum("or,rikl->oikl", up.flatten(1), down)


@torch.no_grad()
def fuse_lora(unet: torch.nn.Module, path: Path, scale: float = 1.0) -> int:
    """Adds the LoRA of `path`, times `scale`, into `unet`'s weights in place (in their own dtype, from a float32
    sum: one rounding per weight). Every pair is checked before any weight changes. Returns the number of
    modules changed."""
    source = path.name
    modules = fusable_modules(unet)
    pairs = lora_pairs(read_tensors(path), unet, source)
    if not pairs:
        raise WeightMismatchError(f"LoRA {source} holds no tensors")
    metadata = peft_metadata(path)
    scales = {}
    for pair in pairs:
        check_fits(pair, modules[pair.module], source)
        scales[pair.module] = scale * pair_scale(pair, metadata, source)
    for pair in pairs:
        weight = modules[pair.module].weight
        weight.copy_((weight.float() + lora_delta(pair) * scales[pair.module]).to(weight.dtype))
    return len(pairs)
