"""InstantID's Resampler (IP-Adapter Plus perceiver): ArcFace [B,1,512] -> 16 tokens [B,16,C].

Tensor names follow `image_proj.*` in InstantID's ip-adapter.bin.
"""

import math

import torch
from torch import nn

from ..config import ResamplerConfig


def _feed_forward(dim: int, mult: int) -> nn.Sequential:
    inner = dim * mult
    return nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, inner, bias=False), nn.GELU(), nn.Linear(inner, dim, bias=False))


class PerceiverAttention(nn.Module):
    def __init__(self, dim: int, dim_head: int, heads: int):
        super().__init__()
        self.heads = heads
        self.dim_head = dim_head
        inner = dim_head * heads
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, inner * 2, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, features, latents):
        features, latents = self.norm1(features), self.norm2(latents)
        batch, n_latents, _ = latents.shape
        query = self.to_q(latents)
        key, value = self.to_kv(torch.cat((features, latents), dim=1)).chunk(2, dim=-1)
        split = lambda x: x.view(batch, -1, self.heads, self.dim_head).transpose(1, 2)  # noqa: E731
        # Scale both sides by dim_head^-1/4, as the reference does (steadier in fp16);
        # the softmax stays in fp32, as the reference's softmax(weight.float()).
        scale = 1.0 / math.sqrt(math.sqrt(self.dim_head))
        weights = (split(query) * scale) @ (split(key) * scale).transpose(-2, -1)
        weights = torch.softmax(weights.float(), dim=-1).to(weights.dtype)
        out = (weights @ split(value)).transpose(1, 2).reshape(batch, n_latents, -1)
        return self.to_out(out)


class Resampler(nn.Module):
    def __init__(self, config: ResamplerConfig, output_dim: int):
        super().__init__()
        self.latents = nn.Parameter(torch.randn(1, config.num_queries, config.dim) / config.dim**0.5)
        self.proj_in = nn.Linear(config.embedding_dim, config.dim)
        self.proj_out = nn.Linear(config.dim, output_dim)
        self.norm_out = nn.LayerNorm(output_dim)
        self.layers = nn.ModuleList(
            nn.ModuleList([PerceiverAttention(config.dim, config.dim_head, config.heads), _feed_forward(config.dim, config.ff_mult)])
            for _ in range(config.depth)
        )

    def forward(self, embedding):
        latents = self.latents.expand(embedding.shape[0], -1, -1)
        features = self.proj_in(embedding)
        for attention, feed_forward in self.layers:
            latents = attention(features, latents) + latents
            latents = feed_forward(latents) + latents
        return self.norm_out(self.proj_out(latents))
