"""PuLID v1 for SDXL, in its two published layouts, and the PuLID files EcomID refuses.

- ComfyUI: `ip-adapter_pulid_sdxl_fp16.safetensors` (huchenlei/ipadapter_pulid; what cubiq/PuLID_ComfyUI and
  EcomID's node load): fp16, `image_proj.*` (the IDEncoder) and `ip_adapter.N.to_k_ip.weight` / `.to_v_ip.weight`.
- Original: guozinan/PuLID `pulid_v1.bin`, torch.save of one flat dict: `id_adapter.*` (the IDEncoder) and
  `id_adapter_attn_layers.N.id_to_k.weight` / `.id_to_v.weight` (ToTheBeginning/PuLID pulid/pipeline.py
  load_pretrain splits it at the first dot). Its dtype is not stated in the sources read: written fp32 here
  (the ComfyUI file covers fp16).
IDEncoder names and sizes: ToTheBeginning/PuLID pulid/encoders.py IDEncoder (body: Linear, LayerNorm, LeakyReLU,
Linear, LayerNorm, LeakyReLU, Linear; mapping_i and mapping_patch_i the same over the EVA width 1024).
"""

from pathlib import Path

import torch
from safetensors.torch import save_file

from ..config import ArchConfig
from .attention_layers import kv_layout
from .random_weights import random_state

NUM_TOKENS = 5


def _mlp(prefix: str, width_in: int, hidden_1: int, hidden_2: int, width_out: int) -> dict:
    sizes = {0: (hidden_1, width_in), 1: (hidden_1,), 3: (hidden_2, hidden_1), 4: (hidden_2,), 6: (width_out, hidden_2)}
    layout = {}
    for index, shape in sizes.items():
        layout[f"{prefix}.{index}.weight"] = shape
        layout[f"{prefix}.{index}.bias"] = shape[:1]
    return layout


def id_encoder_layout(arch: ArchConfig) -> dict[str, tuple[int, ...]]:
    context = arch.cross_attention_dim
    total = context * NUM_TOKENS
    layout = _mlp("body", arch.id_cond_dim, min(total // 4, 1024), min(total // 2, 1024), total)
    for i in range(NUM_TOKENS):
        for name in (f"mapping_{i}", f"mapping_patch_{i}"):
            layout.update(_mlp(name, arch.eva.width, arch.id_mapping_width, arch.id_mapping_width, context))
    return layout


def comfyui_tensors(arch: ArchConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    layout = {f"image_proj.{k}": v for k, v in id_encoder_layout(arch).items()}
    layout.update(kv_layout(arch, "ip_adapter.{n}.to_{kv}_ip.weight"))
    return random_state(layout, seed, torch.float16)


def write_pulid_comfyui(path: Path, arch: ArchConfig, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(comfyui_tensors(arch, seed), str(path))
    return path


def write_pulid_original(path: Path, arch: ArchConfig, seed: int = 0) -> Path:
    layout = {f"id_adapter.{k}": v for k, v in id_encoder_layout(arch).items()}
    layout.update(kv_layout(arch, "id_adapter_attn_layers.{n}.id_to_{kv}.weight"))
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(random_state(layout, seed), path)
    return path


def write_pulid_v1_1(path: Path, arch: ArchConfig, seed: int = 0) -> Path:
    """PuLID v1.1 (`pulid_v1.1.safetensors`): the IDFormer perceiver as ID encoder (ToTheBeginning/PuLID
    pulid/encoders_transformer.py IDFormer: latents, id_embedding_mapping, layers, mapping_i, proj_out). Only the
    keys that tell it apart are written: the file exists to be refused."""
    width = arch.cross_attention_dim
    layout = {"id_adapter.latents": (1, 32, width), "id_adapter.proj_out": (width, width),
              "id_adapter.id_embedding_mapping.0.weight": (width, arch.id_cond_dim),
              "id_adapter.layers.0.0.norm1.weight": (width,)}
    layout.update(kv_layout(arch, "id_adapter_attn_layers.{n}.id_to_{kv}.weight"))
    save_file(random_state(layout, seed), str(path))
    return path


def write_pulid_flux(path: Path, seed: int = 0) -> Path:
    """PuLID-FLUX (`pulid_flux_v0.9.1.safetensors`): `pulid_encoder.*` (an IDFormer) and `pulid_ca.N.*`
    (ToTheBeginning/PuLID pulid/pipeline_flux.py). Only the telling keys: the file exists to be refused."""
    layout = {"pulid_encoder.latents": (1, 32, 16), "pulid_ca.0.to_q.weight": (16, 16), "pulid_ca.0.norm1.weight": (16,)}
    save_file(random_state(layout, seed), str(path))
    return path
