"""EVA02-CLIP visual tower (EVA02-CLIP-L-14-336 layout): SwiGLU, sub-LN, 2-D RoPE, CLS head.

Returns the CLS embedding and the residual stream before the configured
blocks (before blocks 4, 8, 12, 16, 20 = after 4, 8, ... blocks), as PuLID
uses them. Tensor names follow the `visual.*` keys of the EVA-CLIP checkpoint;
the RoPE tables are recomputed, never loaded.
"""

import torch
from torch import nn

from ..config import EvaConfig

LN_EPS = 1e-6


def _rope_tables(cfg: EvaConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """EVA's VisionRotaryEmbeddingFast with intp_freq: positions squeezed onto the 16x16 pretraining grid."""
    half = cfg.width // cfg.heads // 2
    grid = cfg.image_size // cfg.patch_size
    freqs = 1.0 / (10000 ** (torch.arange(0, half, 2)[: half // 2].float() / half))
    positions = torch.arange(grid) / grid * cfg.pt_hw_seq_len
    angles = torch.einsum("i,f->if", positions, freqs).repeat_interleave(2, dim=-1)  # [grid, half]
    rows = angles[:, None, :].expand(grid, grid, half)
    cols = angles[None, :, :].expand(grid, grid, half)
    table = torch.cat((rows, cols), dim=-1).reshape(grid * grid, 2 * half)
    return table.cos(), table.sin()


def _rotate_pairs(x):
    pairs = x.unflatten(-1, (-1, 2))
    return torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)


class EvaAttention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(width, width, bias=False)
        self.k_proj = nn.Linear(width, width, bias=False)
        self.v_proj = nn.Linear(width, width, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(width))
        self.v_bias = nn.Parameter(torch.zeros(width))
        self.inner_attn_ln = nn.LayerNorm(width, eps=LN_EPS)
        self.proj = nn.Linear(width, width)

    def forward(self, x, rope_cos, rope_sin):
        batch, n, width = x.shape
        split = lambda t: t.view(batch, n, self.heads, -1).transpose(1, 2)  # noqa: E731
        q = split(nn.functional.linear(x, self.q_proj.weight, self.q_bias))
        k = split(self.k_proj(x))
        v = split(nn.functional.linear(x, self.v_proj.weight, self.v_bias))
        rotate = lambda t: torch.cat((t[:, :, :1], t[:, :, 1:] * rope_cos + _rotate_pairs(t[:, :, 1:]) * rope_sin), dim=2)  # noqa: E731
        out = nn.functional.scaled_dot_product_attention(rotate(q), rotate(k), v)  # CLS token is not rotated
        return self.proj(self.inner_attn_ln(out.transpose(1, 2).reshape(batch, n, width)))


class SwiGlu(nn.Module):
    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.w1 = nn.Linear(width, hidden)
        self.w2 = nn.Linear(width, hidden)
        self.ffn_ln = nn.LayerNorm(hidden, eps=LN_EPS)
        self.w3 = nn.Linear(hidden, width)

    def forward(self, x):
        return self.w3(self.ffn_ln(nn.functional.silu(self.w1(x)) * self.w2(x)))


class EvaBlock(nn.Module):
    def __init__(self, cfg: EvaConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.width, eps=LN_EPS)
        self.attn = EvaAttention(cfg.width, cfg.heads)
        self.norm2 = nn.LayerNorm(cfg.width, eps=LN_EPS)
        self.mlp = SwiGlu(cfg.width, int(cfg.width * cfg.mlp_ratio))

    def forward(self, x, rope_cos, rope_sin):
        x = x + self.attn(self.norm1(x), rope_cos, rope_sin)
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, cfg: EvaConfig):
        super().__init__()
        self.proj = nn.Conv2d(3, cfg.width, kernel_size=cfg.patch_size, stride=cfg.patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class EvaVisionTower(nn.Module):
    def __init__(self, cfg: EvaConfig):
        super().__init__()
        self.cfg = cfg
        patches = (cfg.image_size // cfg.patch_size) ** 2
        self.patch_embed = PatchEmbed(cfg)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.width))
        self.pos_embed = nn.Parameter(torch.zeros(1, patches + 1, cfg.width))
        self.blocks = nn.ModuleList(EvaBlock(cfg) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.width, eps=LN_EPS)
        self.head = nn.Linear(cfg.width, cfg.embed_dim)
        cos, sin = _rope_tables(cfg)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def forward(self, image):
        x = self.patch_embed(image)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + self.pos_embed
        hidden = []
        for index, block in enumerate(self.blocks):
            if index in self.cfg.hidden_block_indices:
                hidden.append(x)
            x = block(x, self.rope_cos, self.rope_sin)
        return self.head(self.norm(x)[:, 0]), hidden

    def derived_checkpoint_keys(self) -> list[str]:
        """RoPE tables the checkpoint stores (once, and again under every block) that we recompute."""
        names = ["rope.freqs_cos", "rope.freqs_sin"]
        return names + [f"blocks.{i}.attn.{n}" for i in range(self.cfg.depth) for n in names]
