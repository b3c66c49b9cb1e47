"""Graph specs for clip_l and clip_g."""

import torch

from ..config import ArchConfig
from ..graph_spec import GraphSpec, TensorSpec
from ..models.text_encoders import BOS_TOKEN_ID, EOS_TOKEN_ID
from .common import generator

_DIMS = {"example": {"batch": 1}, "verify": {"batch": 2}}


def clip_l_spec(arch: ArchConfig, sources: list[str]) -> GraphSpec:
    n = arch.max_text_length
    return GraphSpec(
        name="clip_l", inputs=[TensorSpec("input_ids", ("batch", n), "int64")],
        outputs=[TensorSpec("penultimate_hidden_states", ("batch", n, arch.clip_l.hidden_size))],
        sources=sources, notes="Pad with EOS (49407) to 77 tokens.",
        example_dims=_DIMS["example"], verify_dims=_DIMS["verify"],
    )


def clip_g_spec(arch: ArchConfig, sources: list[str]) -> GraphSpec:
    n = arch.max_text_length
    return GraphSpec(
        name="clip_g", inputs=[TensorSpec("input_ids", ("batch", n), "int64")],
        outputs=[TensorSpec("penultimate_hidden_states", ("batch", n, arch.clip_g.hidden_size)),
                 TensorSpec("text_embeds", ("batch", arch.text_embeds_dim))],
        sources=sources, notes="Pad with '!' (0) to 77 tokens; text_embeds is taken at the first EOS.", example_dims=_DIMS["example"], verify_dims=_DIMS["verify"],
    )


def token_inputs(arch: ArchConfig):
    def make(dims: dict[str, int], seed: int) -> dict[str, torch.Tensor]:
        g = generator(seed)
        b, n = dims["batch"], arch.max_text_length
        ids = torch.randint(0, BOS_TOKEN_ID, (b, n), generator=g)
        ids[:, 0] = BOS_TOKEN_ID
        for row in range(b):  # prompts of different lengths, so the pooled token position varies
            end = 3 + 5 * row
            ids[row, end] = EOS_TOKEN_ID
            ids[row, end + 1:] = EOS_TOKEN_ID if row % 2 == 0 else 0
        return {"input_ids": ids}

    return make
