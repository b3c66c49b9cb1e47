"""The ID attention processor against the formulas in its module docstring, computed independently."""

import pytest
import torch
from diffusers.models.attention_processor import Attention

from bounds import assert_within
from ecomid_export.float_error import APPROXIMATION_ROUNDINGS, relative_bound
from ecomid_export.models.id_attention import ALPHA_EPSILON, ID_MODES, IdAttentionProcessor


def _heads(x, h):
    b, n, c = x.shape
    return x.view(b, n, h, c // h).transpose(1, 2)


def _mha(q, k, v, h):
    b, n, c = q.shape
    w = torch.softmax(_heads(q, h) @ _heads(k, h).transpose(-1, -2) / (c // h) ** 0.5, dim=-1)
    return (w @ _heads(v, h)).transpose(1, 2).reshape(b, n, c)


@pytest.mark.parametrize("mode", ["neutral", "style", "fidelity"])
def test_matches_the_docstring_formula(mode):
    torch.manual_seed(0)
    c, d, heads = 16, 12, 2
    attn = Attention(query_dim=c, cross_attention_dim=d, heads=heads, dim_head=c // heads).eval()
    processor = IdAttentionProcessor(c, d)
    x, text, ids = torch.randn(2, 20, c), torch.randn(2, 7, d), torch.randn(2, 18, d)
    ids[:, 10:] = 0  # zero padding tokens, as the pipeline feeds them
    weight = torch.tensor([0.3, 0.9])
    with torch.no_grad():
        got = processor(attn, x, text, id_tokens=ids, id_weight=weight, id_mode=torch.full((2,), ID_MODES[mode]))
        q = attn.to_q(x)
        out = _mha(q, attn.to_k(text), attn.to_v(text), heads)
        k_id = processor.to_k_ip(ids)
        out_ip = _mha(q, k_id, processor.to_v_ip(ids), heads)
        alpha = (out * out_ip).sum(1, keepdim=True) / ((out * out).sum(1, keepdim=True) + ALPHA_EPSILON)
        w = weight.view(2, 1, 1)
        if mode == "neutral":
            delta = w * out_ip
        elif mode == "style":
            delta = w * (out_ip - alpha * out)
        else:
            s = torch.softmax(q @ k_id.transpose(1, 2), dim=-1).mean(dim=1)[:, :5].sum(-1).view(2, 1, 1)
            delta = w * (out_ip + (s - 1) * alpha * out)
        want = attn.to_out[0](out + delta)
    # The same formula in another order. Roundings on the longest path: to_q (c terms), scores (c / heads),
    # softmax over 18 ID tokens (18 + its exp), the weighted values (18), alpha's sums over 20 positions and the
    # mix (a few), to_out (c).
    roundings = c + c // heads + 18 + APPROXIMATION_ROUNDINGS + 18 + 20 + 4 + c
    assert_within(got, want, relative_bound(roundings), mode)
