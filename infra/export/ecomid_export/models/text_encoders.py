"""CLIP-L and OpenCLIP-bigG text towers as SDXL uses them: penultimate hidden states (+ pooled projection for bigG)."""

from torch import nn
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from ..config import ArchConfig, TextConfig

BOS_TOKEN_ID = 49406
EOS_TOKEN_ID = 49407


def text_config(arch: ArchConfig, text: TextConfig) -> CLIPTextConfig:
    extra = {"projection_dim": text.projection_dim} if text.projection_dim else {}
    return CLIPTextConfig(
        vocab_size=arch.vocab_size, hidden_size=text.hidden_size, intermediate_size=text.intermediate_size,
        num_hidden_layers=text.num_hidden_layers, num_attention_heads=text.num_attention_heads,
        max_position_embeddings=arch.max_text_length, hidden_act=text.hidden_act,
        bos_token_id=BOS_TOKEN_ID, eos_token_id=EOS_TOKEN_ID, pad_token_id=1, attn_implementation="eager", **extra,
    )


class ClipL(nn.Module):
    """input_ids [B,77] -> penultimate hidden states [B,77,C_l]."""

    def __init__(self, model: CLIPTextModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model(input_ids, output_hidden_states=True).hidden_states[-2]


class ClipG(nn.Module):
    """input_ids [B,77] -> (penultimate hidden states [B,77,C_g], text_embeds [B,P])."""

    def __init__(self, model: CLIPTextModelWithProjection):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        out = self.model(input_ids, output_hidden_states=True)
        return out.hidden_states[-2], out.text_embeds


def build_clip_l(arch: ArchConfig) -> ClipL:
    return ClipL(CLIPTextModel(text_config(arch, arch.clip_l)))


def build_clip_g(arch: ArchConfig) -> ClipG:
    return ClipG(CLIPTextModelWithProjection(text_config(arch, arch.clip_g)))
