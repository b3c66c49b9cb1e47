"""vae_decoder graph: latents already divided by the scaling factor -> image in [-1, 1]."""

from diffusers import AutoencoderKL
from torch import nn

from ..config import ArchConfig


def build_vae(arch: ArchConfig) -> AutoencoderKL:
    v = arch.vae
    blocks = len(v.block_out_channels)
    return AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=v.block_out_channels,
        down_block_types=("DownEncoderBlock2D",) * blocks, up_block_types=("UpDecoderBlock2D",) * blocks,
        layers_per_block=v.layers_per_block, norm_num_groups=v.norm_num_groups, scaling_factor=0.13025,
    )


class VaeDecoder(nn.Module):
    def __init__(self, vae: AutoencoderKL):
        super().__init__()
        self.post_quant_conv = vae.post_quant_conv
        self.decoder = vae.decoder

    def forward(self, latents):
        return self.decoder(self.post_quant_conv(latents))
