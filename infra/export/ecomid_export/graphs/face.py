"""Graph specs for the face graphs: scrfd, arcface, id_prep, id_encoder, resampler, vae_decoder."""

import torch

from ..config import ArchConfig
from ..graph_spec import GraphSpec, TensorSpec
from ..models.scrfd import STRIDES
from .common import generator, rand, randn


def scrfd_spec(sources: list[str]) -> GraphSpec:
    scores = [TensorSpec(f"score_{s}", (f"anchors_{s}", 1)) for s in STRIDES]
    boxes = [TensorSpec(f"bbox_{s}", (f"anchors_{s}", 4)) for s in STRIDES]
    kps = [TensorSpec(f"kps_{s}", (f"anchors_{s}", 10)) for s in STRIDES]
    return GraphSpec(
        name="scrfd", inputs=[TensorSpec("input", (1, 3, "size", "size"))], outputs=scores + boxes + kps,
        sources=sources,
        notes="FIXTURE: a tiny SCRFD-shaped network fitted to the test images; it finds the one face in "
              "astronaut.png and none in coffee.png / chelsea.png, nothing else. anchors_s = 2 * (size / s)^2.",
        example_dims={"size": 640}, verify_dims={"size": 320},
    )


def image_inputs(name: str, shape_of, low=-1.0, high=1.0):
    def make(dims: dict[str, int], seed: int) -> dict[str, torch.Tensor]:
        return {name: rand(shape_of(dims), generator(seed), low, high)}
    return make


def arcface_spec(sources: list[str]) -> GraphSpec:
    return GraphSpec(
        name="arcface", inputs=[TensorSpec("input", ("batch", 3, 112, 112))],
        outputs=[TensorSpec("embedding", ("batch", 512))], sources=sources,
        notes="Input (RGB - 127.5) / 127.5 of the 112x112 aligned crop; the embedding is used raw.",
        example_dims={"batch": 1}, verify_dims={"batch": 2},
    )


def id_prep_spec(sources: list[str]) -> GraphSpec:
    return GraphSpec(
        name="id_prep", inputs=[TensorSpec("aligned_face", (1, 3, 512, 512))],
        outputs=[TensorSpec("eva_input", (1, 3, 336, 336))], sources=sources,
        notes="Input: the FFHQ-aligned face, RGB in [0, 1]. BiSeNet parsing, background whitened, the rest gray, "
              "antialiased bicubic resize to 336, CLIP normalisation.",
        example_dims={}, verify_dims={},
    )


def id_encoder_spec(arch: ArchConfig, sources: list[str]) -> GraphSpec:
    return GraphSpec(
        name="id_encoder",
        inputs=[TensorSpec("eva_input", ("batch", 3, 336, 336)), TensorSpec("arcface_embedding", ("batch", 512))],
        outputs=[TensorSpec("id_tokens", ("batch", arch.id_tokens, arch.cross_attention_dim))],
        sources=sources,
        notes="EVA02 visual tower + L2-normalised embedding + raw ArcFace + PuLID v1 IDEncoder. "
              "The uncond tokens (zero inputs) are constants.uncond_id_tokens.",
        example_dims={"batch": 1}, verify_dims={"batch": 2},
    )


def id_encoder_inputs():
    def make(dims: dict[str, int], seed: int) -> dict[str, torch.Tensor]:
        g = generator(seed)
        b = dims["batch"]
        return {"eva_input": randn((b, 3, 336, 336), g), "arcface_embedding": randn((b, 512), g, 10.0)}
    return make


def resampler_spec(arch: ArchConfig, sources: list[str]) -> GraphSpec:
    return GraphSpec(
        name="resampler", inputs=[TensorSpec("arcface_embedding", ("batch", 1, 512))],
        outputs=[TensorSpec("face_tokens", ("batch", arch.resampler.num_queries, arch.cross_attention_dim))],
        sources=sources,
        notes="IdentityNet's context. The uncond tokens (zero input) are constants.uncond_resampler_tokens.",
        example_dims={"batch": 1}, verify_dims={"batch": 2},
    )


def vae_decoder_spec(sources: list[str]) -> GraphSpec:
    return GraphSpec(
        name="vae_decoder", inputs=[TensorSpec("latents", ("batch", 4, "latent_height", "latent_width"))],
        outputs=[TensorSpec("image", ("batch", 3, "image_height", "image_width"))], sources=sources,
        notes="Input latents / scaling_factor; output RGB in [-1, 1] (clamp, then (x + 1) * 127.5).",
        example_dims={"batch": 1, "latent_height": 8, "latent_width": 8},
        verify_dims={"batch": 1, "latent_height": 16, "latent_width": 8},
    )
