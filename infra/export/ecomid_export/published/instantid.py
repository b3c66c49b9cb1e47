"""InstantID's `ip-adapter.bin` (InstantX/InstantID): torch.save({"image_proj": ..., "ip_adapter": ...}), fp32
(1.69 GB for 423 M parameters).

- image_proj: the Resampler (instantX-research/InstantID ip_adapter/resampler.py: latents, proj_in, proj_out,
  norm_out, layers.i.0 = PerceiverAttention {norm1, norm2, to_q, to_kv, to_out}, layers.i.1 = FeedForward
  Sequential {0 LayerNorm, 1 Linear, 2 GELU, 3 Linear}, bias-free attention and feed-forward Linears);
  dim 1280, depth 4, 20 heads of 64, 16 queries, ArcFace 512 in, 2048 out, ff_mult 4.
- ip_adapter: `N.to_k_ip.weight` / `N.to_v_ip.weight` for every cross-attention layer (the pipeline's
  load_ip_adapter_instantid loads it into ModuleList(unet.attn_processors.values())); EcomID never uses them.
"""

from pathlib import Path

import torch

from ..config import ArchConfig
from .attention_layers import kv_layout
from .random_weights import random_state


def resampler_layout(arch: ArchConfig) -> dict[str, tuple[int, ...]]:
    r, output = arch.resampler, arch.cross_attention_dim
    inner, hidden = r.dim_head * r.heads, r.dim * r.ff_mult
    layout = {"latents": (1, r.num_queries, r.dim), "proj_in.weight": (r.dim, r.embedding_dim), "proj_in.bias": (r.dim,),
              "proj_out.weight": (output, r.dim), "proj_out.bias": (output,), "norm_out.weight": (output,),
              "norm_out.bias": (output,)}
    for i in range(r.depth):
        attention, feed_forward = f"layers.{i}.0.", f"layers.{i}.1."
        layout.update({
            attention + "norm1.weight": (r.dim,), attention + "norm1.bias": (r.dim,),
            attention + "norm2.weight": (r.dim,), attention + "norm2.bias": (r.dim,),
            attention + "to_q.weight": (inner, r.dim), attention + "to_kv.weight": (2 * inner, r.dim),
            attention + "to_out.weight": (r.dim, inner),
            feed_forward + "0.weight": (r.dim,), feed_forward + "0.bias": (r.dim,),
            feed_forward + "1.weight": (hidden, r.dim), feed_forward + "3.weight": (r.dim, hidden),
        })
    return layout


def write_instantid_ip_adapter(path: Path, arch: ArchConfig, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"image_proj": random_state(resampler_layout(arch), seed),
                "ip_adapter": random_state(kv_layout(arch, "{n}.to_{kv}_ip.weight"), seed + 1)}, path)
    return path
