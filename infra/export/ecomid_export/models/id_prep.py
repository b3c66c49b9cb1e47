"""id_prep graph: aligned face [1,3,512,512] RGB in [0,1] -> EVA input [1,3,336,336], as PuLID prepares EVA's input."""

import torch
from torch import nn

from .bisenet import BiSeNet
from .resize import FixedBicubicResize

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
# background, ears (7, 8), earring, neck, necklace, cloth, hat: whitened; hair, glasses, skin and features stay.
WHITE_LABELS = (0, 7, 8, 9, 14, 15, 16, 18)
GRAY_WEIGHTS = (0.299, 0.587, 0.114)


def _column(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).view(1, 3, 1, 1)


class IdPrep(nn.Module):
    def __init__(self, parser: BiSeNet, input_size: int = 512, output_size: int = 336):
        super().__init__()
        self.parser = parser
        # torchvision's tensor resize (PuLID) antialiases by default; so does this.
        self.resize = FixedBicubicResize(input_size, output_size)
        self.register_buffer("parsing_mean", _column(IMAGENET_MEAN), persistent=False)
        self.register_buffer("parsing_std", _column(IMAGENET_STD), persistent=False)
        self.register_buffer("clip_mean", _column(CLIP_MEAN), persistent=False)
        self.register_buffer("clip_std", _column(CLIP_STD), persistent=False)
        self.register_buffer("gray_weights", _column(GRAY_WEIGHTS), persistent=False)
        self.register_buffer("white_labels", torch.tensor(WHITE_LABELS).view(1, -1, 1, 1), persistent=False)

    def forward(self, aligned_face):
        labels = self.logits(aligned_face).argmax(dim=1, keepdim=True)
        background = (labels == self.white_labels).any(dim=1, keepdim=True)
        gray = (aligned_face * self.gray_weights).sum(dim=1, keepdim=True).expand(-1, 3, -1, -1)
        whitened = torch.where(background, 1.0, gray)  # a scalar: ones_like would be folded into a 3 MB constant
        return (self.resize(whitened) - self.clip_mean) / self.clip_std

    def logits(self, aligned_face):
        return self.parser((aligned_face - self.parsing_mean) / self.parsing_std)

    def undecided_outputs(self, aligned_face, relative_error: float):
        """Output pixels another evaluation may legitimately compute differently: those whose resize taps reach
        a pixel where the parser's two best classes are closer than two evaluations' logits may differ
        (2 x relative_error x max(1, |logits|)), so the argmax may flip between white and gray there."""
        logits = self.logits(aligned_face)
        best = logits.topk(2, dim=1).values
        margin = 2.0 * relative_error * max(1.0, float(logits.abs().max()))
        tied = ((best[:, 0] - best[:, 1]) <= margin).float().unsqueeze(1)  # [1, 1, 512, 512]
        reach = self.resize.reach(tied) > 0
        return reach.expand(-1, 3, -1, -1)
