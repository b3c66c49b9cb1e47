"""EVA02-CLIP-L-14-336 as QuanSun/EVA-CLIP publishes it: `EVA02_CLIP_L_336_psz14_s6B.pt`, torch.save of the whole
CLIP model's state dict in fp16 (856 MB for 428 M parameters): `visual.*`, `text.*`, `logit_scale`.

Visual names: EVA-CLIP's eva_vit_model.py EVAVisionTransformer (cls_token, pos_embed, patch_embed.proj,
rope.freqs_cos/sin (VisionRotaryEmbeddingFast buffers, shared by every block and so stored again under
blocks.i.attn.rope), blocks.i.{norm1, attn.{q_proj, k_proj, v_proj (no biases), q_bias, v_bias, inner_attn_ln,
proj}, norm2, mlp.{w1, w2, ffn_ln, w3} (SwiGLU)}, norm, head), sizes from model_configs/EVA02-CLIP-L-14-336.json
(width 1024, 24 layers, 16 heads, mlp_ratio 2.6667, patch 14, image 336, embed 768; text width 768, 12 layers).
The text tower uses open_clip's names. `wrapper` writes the forms EVA-CLIP's loader unwraps
(eva_clip/factory.py load_state_dict: a `model`, `module` or `state_dict` entry, then a `module.` prefix).
"""

from pathlib import Path

import torch

from ..config import ArchConfig
from .random_weights import random_state

WRAPPERS = ("none", "state_dict", "model", "module", "module.")


def visual_layout(arch: ArchConfig) -> dict[str, tuple[int, ...]]:
    e = arch.eva
    width, hidden = e.width, int(e.width * e.mlp_ratio)
    grid = e.image_size // e.patch_size
    rope = (grid * grid, e.width // e.heads)
    layout = {"cls_token": (1, 1, width), "pos_embed": (1, grid * grid + 1, width),
              "patch_embed.proj.weight": (width, 3, e.patch_size, e.patch_size), "patch_embed.proj.bias": (width,),
              "rope.freqs_cos": rope, "rope.freqs_sin": rope, "norm.weight": (width,), "norm.bias": (width,),
              "head.weight": (e.embed_dim, width), "head.bias": (e.embed_dim,)}
    for i in range(e.depth):
        b = f"blocks.{i}."
        layout.update({
            b + "norm1.weight": (width,), b + "norm1.bias": (width,), b + "norm2.weight": (width,), b + "norm2.bias": (width,),
            b + "attn.q_proj.weight": (width, width), b + "attn.k_proj.weight": (width, width),
            b + "attn.v_proj.weight": (width, width), b + "attn.q_bias": (width,), b + "attn.v_bias": (width,),
            b + "attn.rope.freqs_cos": rope, b + "attn.rope.freqs_sin": rope,
            b + "attn.inner_attn_ln.weight": (width,), b + "attn.inner_attn_ln.bias": (width,),
            b + "attn.proj.weight": (width, width), b + "attn.proj.bias": (width,),
            b + "mlp.w1.weight": (hidden, width), b + "mlp.w1.bias": (hidden,),
            b + "mlp.w2.weight": (hidden, width), b + "mlp.w2.bias": (hidden,),
            b + "mlp.ffn_ln.weight": (hidden,), b + "mlp.ffn_ln.bias": (hidden,),
            b + "mlp.w3.weight": (width, hidden), b + "mlp.w3.bias": (width,),
        })
    return layout


def text_layout(arch: ArchConfig, width: int, layers: int) -> dict[str, tuple[int, ...]]:
    layout = {"positional_embedding": (arch.max_text_length, width), "token_embedding.weight": (arch.vocab_size, width),
              "ln_final.weight": (width,), "ln_final.bias": (width,), "text_projection": (width, arch.eva.embed_dim)}
    for n in range(layers):
        b = f"transformer.resblocks.{n}."
        layout.update({b + "ln_1.weight": (width,), b + "ln_1.bias": (width,), b + "ln_2.weight": (width,),
                       b + "ln_2.bias": (width,), b + "attn.in_proj_weight": (3 * width, width),
                       b + "attn.in_proj_bias": (3 * width,), b + "attn.out_proj.weight": (width, width),
                       b + "attn.out_proj.bias": (width,), b + "mlp.c_fc.weight": (4 * width, width),
                       b + "mlp.c_fc.bias": (4 * width,), b + "mlp.c_proj.weight": (width, 4 * width),
                       b + "mlp.c_proj.bias": (width,)})
    return layout


def eva_clip_state(arch: ArchConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    text_width, text_layers = (768, 12) if arch.eva.width == 1024 else (8, 1)  # the published text tower, or a token one
    layout = {f"visual.{k}": v for k, v in visual_layout(arch).items()}
    layout.update({f"text.{k}": v for k, v in text_layout(arch, text_width, text_layers).items()})
    state = random_state(layout, seed, torch.float16)
    state["logit_scale"] = torch.tensor(4.6052, dtype=torch.float16)
    return state


def write_eva_clip(path: Path, arch: ArchConfig, seed: int = 0, wrapper: str = "none") -> Path:
    state = eva_clip_state(arch, seed)
    if wrapper == "module.":
        data = {f"module.{k}": v for k, v in state.items()}
    else:
        data = state if wrapper == "none" else {wrapper: state}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(data, path)
    return path
