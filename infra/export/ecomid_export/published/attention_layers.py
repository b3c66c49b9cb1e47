"""Which UNet attention layers an adapter file keys, and their widths: `ip_adapter.N.*` (IP-Adapter, InstantID,
PuLID ComfyUI) and `id_adapter_attn_layers.N.*` (PuLID) number the layers by their position N in a diffusers
SDXL UNet's `attn_processors` (down, up, mid; attn1 then attn2 in each transformer block), keeping the
cross-attention ones (attn2): ToTheBeginning/PuLID pulid/pipeline.py hack_unet_attn_layers,
instantX-research/InstantID pipeline_stable_diffusion_xl_instantid.py set_ip_adapter.
Read off diffusers' own UNet built from SDXL's published config, on the meta device (no memory).
"""

import torch
from diffusers import UNet2DConditionModel

from ..config import ArchConfig
from .sdxl_diffusers import unet_config


def cross_attention_layers(arch: ArchConfig) -> list[tuple[int, int]]:
    """(N, the layer's width) for every cross-attention layer, in processor order."""
    with torch.device("meta"):
        unet = UNet2DConditionModel(**unet_config(arch))
    return [(n, unet.get_submodule(name.removesuffix(".processor")).to_q.out_features)
            for n, name in enumerate(unet.attn_processors) if name.endswith("attn2.processor")]


def kv_layout(arch: ArchConfig, key: str) -> dict[str, tuple[int, int]]:
    """`key` formats (n, kv) into a tensor name, e.g. "ip_adapter.{n}.to_{kv}_ip.weight"; Linear(2048 -> width)."""
    return {key.format(n=n, kv=kv): (width, arch.cross_attention_dim)
            for n, width in cross_attention_layers(arch) for kv in ("k", "v")}
