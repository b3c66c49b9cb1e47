"""id_prep has a discrete step (the parser's argmax): two correct evaluations may pick different classes where
two logits are nearly tied. Verification leaves out exactly the outputs such a pixel can reach."""

import torch
from torch import nn

from ecomid_export.models.id_prep import IdPrep


class TiedParser(nn.Module):
    """Logits with a clear winner everywhere but a 4x4 patch at (row 100, column 300), where two classes tie."""

    def forward(self, x):
        logits = torch.zeros(x.shape[0], 19, 512, 512)
        logits[:, 0] = 5.0
        logits[:, 1, 100:104, 300:304] = 5.0
        return logits


def test_only_outputs_within_reach_of_a_tied_pixel_are_left_out():
    undecided = IdPrep(TiedParser()).undecided_outputs(torch.zeros(1, 3, 512, 512), relative_error=1e-4)
    rows = torch.nonzero(undecided[0, 0].any(dim=1)).flatten()
    cols = torch.nonzero(undecided[0, 0].any(dim=0)).flatten()
    scale = 336 / 512  # the patch lands near (66, 197) after the resize, a few taps wide
    assert rows.min() >= 100 * scale - 4 and rows.max() <= 104 * scale + 4
    assert cols.min() >= 300 * scale - 4 and cols.max() <= 304 * scale + 4
    assert 0 < undecided.float().mean() < 0.001


def test_a_clear_parse_leaves_nothing_out():
    class ClearParser(TiedParser):
        def forward(self, x):
            logits = super().forward(x)
            logits[:, 1] = 0.0
            return logits

    assert not IdPrep(ClearParser()).undecided_outputs(torch.zeros(1, 3, 512, 512), relative_error=1e-4).any()
