"""The id_encoder graph: EVA tower + L2 norm + concat with ArcFace + PuLID IDEncoder -> ID tokens."""

import torch
from torch import nn

from ..config import ArchConfig
from .eva_vit import EvaVisionTower
from .id_mlp import IdEncoderMlp


class IdEncoder(nn.Module):
    def __init__(self, arch: ArchConfig):
        super().__init__()
        self.eva = EvaVisionTower(arch.eva)
        self.mlp = IdEncoderMlp(arch.id_cond_dim, arch.cross_attention_dim, arch.eva.width, arch.id_mapping_width)

    def forward(self, eva_input, arcface_embedding):
        embedding, hidden = self.eva(eva_input)
        embedding = embedding / embedding.norm(dim=-1, keepdim=True)
        # ArcFace is used raw, not normalised, as PuLID concatenates insightface's `embedding`.
        id_cond = torch.cat((arcface_embedding, embedding), dim=-1)
        return self.mlp(id_cond, hidden)

    def uncond_tokens(self) -> torch.Tensor:
        """noise = 0: id_cond and the hidden states are zeros (the nodes' uncond inputs); a constant of the weights."""
        cfg = self.eva.cfg
        n = (cfg.image_size // cfg.patch_size) ** 2 + 1
        zeros_hidden = [torch.zeros(1, n, cfg.width) for _ in cfg.hidden_block_indices]
        return self.mlp(torch.zeros(1, self.mlp.body[0].in_features), zeros_hidden)
