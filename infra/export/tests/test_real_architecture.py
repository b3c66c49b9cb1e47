"""The REAL configuration against the published models' parameter counts and PuLID's 70 ID layers, on the meta device."""

import pytest
import torch

from ecomid_export.config import REAL
from ecomid_export.models.bisenet import BiSeNet
from ecomid_export.models.denoiser import Denoiser, build_identitynet, build_unet
from ecomid_export.models.id_attention import cross_attention_names
from ecomid_export.models.id_encoder import IdEncoder
from ecomid_export.models.resampler import Resampler
from ecomid_export.models.retinaface import RetinaFace
from ecomid_export.models.text_encoders import build_clip_g, build_clip_l
from ecomid_export.models.vae_decoder import build_vae


def _params(module) -> float:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def denoiser():
    with torch.device("meta"):
        return Denoiser(build_unet(REAL), build_identitynet(REAL), REAL.cross_attention_dim)


def test_seventy_id_attention_layers_keyed_like_the_pulid_file(denoiser):
    names = cross_attention_names(denoiser.unet)
    assert [index for index, _ in names] == list(range(1, 140, 2))
    # down, then up, then mid (the order the PuLID file numbers them): widths 640 x4, 1280 x20, 1280 x30, 640 x6, 1280 x10
    widths = [denoiser.id_attention[str(i)].to_k_ip.out_features for i, _ in names]
    assert widths == [640] * 4 + [1280] * 20 + [1280] * 30 + [640] * 6 + [1280] * 10
    assert names[-1][1].startswith("mid_block.")


@pytest.mark.parametrize("name,build,millions", [
    ("IdentityNet", lambda: build_identitynet(REAL), 1251),
    ("EVA02-CLIP-L-14-336 visual", lambda: IdEncoder(REAL).eva, 304),
    ("PuLID IDEncoder", lambda: IdEncoder(REAL).mlp, 55),
    ("InstantID Resampler", lambda: Resampler(REAL.resampler, REAL.cross_attention_dim), 82),
    ("CLIP-L", lambda: build_clip_l(REAL), 123),
    ("OpenCLIP-bigG", lambda: build_clip_g(REAL), 695),
    ("VAE", lambda: build_vae(REAL), 84),
    ("BiSeNet", lambda: BiSeNet(REAL.bisenet_widths), 13.3),
    ("RetinaFace-R50", lambda: RetinaFace(REAL.retinaface_widths, REAL.retinaface_blocks), 27.3),
])
def test_parameter_counts_match_the_published_models(name, build, millions):
    with torch.device("meta"):
        count = _params(build()) / 1e6
    assert abs(count - millions) <= 0.02 * millions, f"{name}: {count:.1f} M parameters"


def test_unet_and_id_projections_match_the_published_sizes(denoiser):
    id_kv = _params(denoiser.id_attention) / 1e6
    assert abs(id_kv - 341) < 1
    assert abs((_params(denoiser.unet) / 1e6 - id_kv) - 2567) < 5  # processors are registered inside the UNet too
