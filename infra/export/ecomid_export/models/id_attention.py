"""PuLID ID attention inside the UNet's cross-attention layers (PuLID's attention_processor.py, EcomID's CrossAttentionPatch.py).

One processor serves all three EcomID methods; `id_mode` picks the coefficient
of the orthogonal term at run time so one graph covers them:
  neutral (0): delta = w * out_ip
  style (1):   delta = w * (out_ip - alpha * out)                (PuLID "ortho")
  fidelity (2): delta = w * (out_ip + (s - 1) * alpha * out)     (ComfyUI "ortho_v2")
"""

import torch
import torch.nn.functional as F
from torch import nn

ID_MODES = {"neutral": 0, "style": 1, "fidelity": 2}
# The reference divides by sum(out^2) unguarded; a zero row would give NaN.
ALPHA_EPSILON = 1e-6
# Fidelity sums attention over the first 5 ID tokens (the IDEncoder's body tokens).
FIDELITY_TOKENS = 5


class IdAttentionProcessor(nn.Module):
    """Bias-free K/V projections of the ID tokens, named as in the PuLID SDXL file (`to_k_ip`, `to_v_ip`)."""

    def __init__(self, hidden_size: int, id_dim: int):
        super().__init__()
        self.to_k_ip = nn.Linear(id_dim, hidden_size, bias=False)
        self.to_v_ip = nn.Linear(id_dim, hidden_size, bias=False)

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None,
                 id_tokens=None, id_weight=None, id_mode=None, **_ignored):
        # SDXL's attn2 layers have no group/spatial norm, no residual and 3-D input: asserted, not handled.
        assert hidden_states.ndim == 3 and attn.group_norm is None and not attn.residual_connection
        context = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        query = attn.to_q(hidden_states)
        out = _multi_head(query, attn.to_k(context), attn.to_v(context), attn.heads)
        if id_tokens is not None:
            out = out + self._id_delta(attn, query, out, id_tokens, id_weight, id_mode)
        return attn.to_out[1](attn.to_out[0](out))

    def _id_delta(self, attn, query, out, id_tokens, id_weight, id_mode):
        key_id = self.to_k_ip(id_tokens)
        out_ip = _multi_head(query, key_id, self.to_v_ip(id_tokens), attn.heads)
        # fp32 island: the orthogonal projection (alpha, its sum of squares) and the unscaled fidelity logits with
        # their softmax (unscaled logits are large, where fp16 is coarse). to_k_ip / to_v_ip above run in the UNet's
        # dtype, as in the reference (ComfyUI casts only out and out_ip to float) and as published
        # (ip-adapter_pulid_sdxl_fp16 is fp16).
        out32, ip32, q32, k32 = out.float(), out_ip.float(), query.float(), key_id.float()
        alpha = (out32 * ip32).sum(dim=1, keepdim=True) / ((out32 * out32).sum(dim=1, keepdim=True) + ALPHA_EPSILON)
        attention = torch.softmax(q32 @ k32.transpose(1, 2), dim=-1).mean(dim=1)  # [B, T], no head split
        body_share = attention[:, :FIDELITY_TOKENS].sum(dim=-1).view(-1, 1, 1)
        mode = id_mode.view(-1, 1, 1)
        coefficient = torch.where(mode == ID_MODES["fidelity"], body_share - 1.0,
                                  torch.where(mode == ID_MODES["style"], -torch.ones_like(body_share),
                                              torch.zeros_like(body_share)))
        delta = id_weight.view(-1, 1, 1).float() * (ip32 + coefficient * alpha * out32)
        return delta.to(out.dtype)


def _multi_head(query, key, value, heads: int):
    batch, n, channels = query.shape
    split = lambda x: x.view(batch, -1, heads, channels // heads).transpose(1, 2)  # noqa: E731
    out = F.scaled_dot_product_attention(split(query), split(key), split(value))
    return out.transpose(1, 2).reshape(batch, n, channels)


def cross_attention_names(unet) -> list[tuple[int, str]]:
    """(index in the processor order, processor name) of every attn2 layer; index = PuLID's `ip_adapter.N` key."""
    return [(i, name) for i, name in enumerate(unet.attn_processors) if name.endswith("attn2.processor")]


def install_id_attention(unet, id_dim: int) -> nn.ModuleDict:
    """Put an IdAttentionProcessor on every cross-attention layer; returns them keyed by PuLID index."""
    processors = dict(unet.attn_processors)
    installed = nn.ModuleDict()
    for index, name in cross_attention_names(unet):
        layer = unet.get_submodule(name.removesuffix(".processor"))
        installed[str(index)] = IdAttentionProcessor(layer.to_q.out_features, id_dim)
        processors[name] = installed[str(index)]
    unet.set_attn_processor(processors)
    return installed
