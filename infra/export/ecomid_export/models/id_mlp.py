"""PuLID v1 IDEncoder: id_cond + 5 EVA hidden states -> 10 ID tokens (5 body, then 5 mapping).

Tensor names follow `image_proj.*` in the PuLID SDXL file. The real sizes use
an EVA width and mapping width of 1024; the tiny bundle shrinks both.
"""

import torch
from torch import nn


def _mlp(width_in: int, hidden_1: int, hidden_2: int, width_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(width_in, hidden_1), nn.LayerNorm(hidden_1), nn.LeakyReLU(),
        nn.Linear(hidden_1, hidden_2), nn.LayerNorm(hidden_2), nn.LeakyReLU(),
        nn.Linear(hidden_2, width_out),
    )


class IdEncoderMlp(nn.Module):
    def __init__(self, id_cond_dim: int, context_dim: int, vit_width: int, mapping_width: int, num_tokens: int = 5):
        super().__init__()
        self.num_tokens = num_tokens
        self.context_dim = context_dim
        total = context_dim * num_tokens
        self.body = _mlp(id_cond_dim, min(total // 4, 1024), min(total // 2, 1024), total)
        for i in range(num_tokens):
            setattr(self, f"mapping_{i}", _mlp(vit_width, mapping_width, mapping_width, context_dim))
            setattr(self, f"mapping_patch_{i}", _mlp(vit_width, mapping_width, mapping_width, context_dim))

    def forward(self, id_cond, hidden_states: list[torch.Tensor]):
        body = self.body(id_cond).reshape(-1, self.num_tokens, self.context_dim)
        mapped = [
            getattr(self, f"mapping_{i}")(h[:, :1]) + getattr(self, f"mapping_patch_{i}")(h[:, 1:]).mean(dim=1, keepdim=True)
            for i, h in enumerate(hidden_states)
        ]
        return torch.cat([body, *mapped], dim=1)
