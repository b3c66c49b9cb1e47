"""Architecture hyper-parameters: the published (real) sizes and the tiny fixture sizes.

The tiny bundle runs the same code with these widths; anything not listed
here (kernel sizes, layer kinds, token counts the TypeScript side relies on)
is the same in both.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class UNetConfig:
    block_out_channels: tuple[int, ...]
    transformer_layers_per_block: tuple[int, ...]
    attention_head_dim: tuple[int, ...]  # diffusers' name; SDXL uses it as the number of heads
    norm_num_groups: int
    addition_time_embed_dim: int
    conditioning_embedding_out_channels: tuple[int, ...]
    layers_per_block: int = 2


@dataclass(frozen=True)
class TextConfig:
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    hidden_act: str
    projection_dim: int | None = None


@dataclass(frozen=True)
class EvaConfig:
    width: int
    depth: int
    heads: int
    embed_dim: int  # head output (CLIP embedding)
    hidden_block_indices: tuple[int, ...]  # the residual stream is taken before these blocks
    mlp_ratio: float = 2.6667
    image_size: int = 336
    patch_size: int = 14
    pt_hw_seq_len: int = 16


@dataclass(frozen=True)
class ResamplerConfig:
    dim: int
    depth: int
    dim_head: int
    heads: int
    num_queries: int = 16
    embedding_dim: int = 512
    ff_mult: int = 4


@dataclass(frozen=True)
class VaeConfig:
    block_out_channels: tuple[int, ...]
    layers_per_block: int
    norm_num_groups: int


@dataclass(frozen=True)
class ArchConfig:
    name: str
    clip_l: TextConfig
    clip_g: TextConfig
    unet: UNetConfig
    eva: EvaConfig
    id_mapping_width: int  # IDEncoder mapping MLP width (1024 in PuLID v1)
    resampler: ResamplerConfig
    vae: VaeConfig
    bisenet_widths: tuple[int, ...]  # ResNet-18 stage widths, then the context/fusion width
    arcface_widths: tuple[int, ...]
    # facexlib's detector, in no bundle: only infra/bench/eva_crop_landmarks.py loads it.
    retinaface_widths: tuple[int, ...]  # ResNet-50 stem, bottleneck planes of layers 1-4, then the FPN width
    retinaface_blocks: tuple[int, ...]
    scrfd_width: int
    vocab_size: int = 49408
    max_text_length: int = 77
    id_tokens: int = 10
    arcface_dim: int = 512
    extra: dict = field(default_factory=dict)

    @property
    def cross_attention_dim(self) -> int:
        return self.clip_l.hidden_size + self.clip_g.hidden_size

    @property
    def text_embeds_dim(self) -> int:
        return self.clip_g.projection_dim

    @property
    def id_cond_dim(self) -> int:
        return self.arcface_dim + self.eva.embed_dim


REAL = ArchConfig(
    name="real",
    clip_l=TextConfig(768, 3072, 12, 12, "quick_gelu"),
    clip_g=TextConfig(1280, 5120, 32, 20, "gelu", projection_dim=1280),
    unet=UNetConfig((320, 640, 1280), (1, 2, 10), (5, 10, 20), 32, 256, (16, 32, 96, 256)),
    eva=EvaConfig(width=1024, depth=24, heads=16, embed_dim=768, hidden_block_indices=(4, 8, 12, 16, 20)),
    id_mapping_width=1024,
    resampler=ResamplerConfig(dim=1280, depth=4, dim_head=64, heads=20),
    vae=VaeConfig((128, 256, 512, 512), 2, 32),
    bisenet_widths=(64, 128, 256, 512, 128),
    arcface_widths=(64, 128, 256, 512),
    retinaface_widths=(64, 64, 128, 256, 512, 256),
    retinaface_blocks=(3, 4, 6, 3),
    scrfd_width=0,  # the published ONNX file is copied, never built
)

TINY = ArchConfig(
    name="tiny",
    # The 49408-token embeddings dominate the tiny bundle's size: keep these narrow.
    clip_l=TextConfig(8, 16, 2, 2, "quick_gelu"),
    clip_g=TextConfig(16, 32, 3, 2, "gelu", projection_dim=16),
    unet=UNetConfig((8, 16, 32), (1, 1, 2), (1, 2, 4), 8, 8, (4, 8, 8, 16)),
    eva=EvaConfig(width=16, depth=6, heads=2, embed_dim=16, hidden_block_indices=(1, 2, 3, 4, 5)),
    id_mapping_width=16,
    resampler=ResamplerConfig(dim=16, depth=2, dim_head=8, heads=2),
    vae=VaeConfig((8, 8, 16, 16), 1, 4),
    bisenet_widths=(4, 8, 8, 16, 8),
    arcface_widths=(4, 8, 8, 4),
    retinaface_widths=(8, 4, 8, 8, 8, 16),
    retinaface_blocks=(1, 1, 1, 1),
    scrfd_width=8,
)
