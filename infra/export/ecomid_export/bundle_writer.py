"""Export every graph of a bundle, verify each against torch, and write constants + manifest."""

import gc
import time
from pathlib import Path

import numpy as np
import torch

from .graphs import face, text
from .graphs.common import generator, randn
from .graphs.denoiser import denoiser_inputs, denoiser_spec, variant_graph_name
from .manifest import write_manifest
from .models.denoiser import build_unet
from .models.id_attention import cross_attention_names
from .onnx_export import (OPSET, compare_with_onnxruntime, export_graph, external_data_files, torch_outputs,
                          verification_bound)
from .peak_rss import PeakRss
from .tensor_io import write_raw


def graph_plan(c, sources: dict[str, list[str]], large: bool = False):
    """(module, spec, input maker) for every graph; `sources` maps graph name -> licence keys."""
    a = c.arch
    plan = [
        (c.clip_l, text.clip_l_spec(a, sources["clip_l"]), text.token_inputs(a)),
        (c.clip_g, text.clip_g_spec(a, sources["clip_g"]), text.token_inputs(a)),
        (c.denoiser, denoiser_spec(a, True, sources["denoiser"]), denoiser_inputs(a)),
        (c.denoiser_no_control, denoiser_spec(a, False, sources["denoiser_no_control"]), denoiser_inputs(a)),
        *[(_variant(c, extra), denoiser_spec(a, True, sources[variant_graph_name(extra)], extra), denoiser_inputs(a))
          for extra in getattr(c, "denoiser_variants", [])],
        (c.vae_decoder, face.vae_decoder_spec(sources["vae_decoder"]),
         face.image_inputs("latents", lambda d: (d["batch"], 4, d["latent_height"], d["latent_width"]), -3, 3)),
        (c.resampler, face.resampler_spec(a, sources["resampler"]),
         lambda d, s: {"arcface_embedding": randn((d["batch"], 1, 512), generator(s), 10.0)}),
        (c.id_encoder, face.id_encoder_spec(a, sources["id_encoder"]), face.id_encoder_inputs()),
        (c.id_prep, face.id_prep_spec(sources["id_prep"]), face.image_inputs("aligned_face", lambda d: (1, 3, 512, 512), 0, 1)),
        (c.arcface, face.arcface_spec(sources["arcface"]), face.image_inputs("input", lambda d: (d["batch"], 3, 112, 112))),
        (c.scrfd, face.scrfd_spec(sources["scrfd"]), face.image_inputs("input", lambda d: (1, 3, d["size"], d["size"]))),
    ]
    if large:
        for _, spec, _ in plan:
            spec.external_data = spec.name.startswith(("denoiser", "clip_g", "id_encoder"))
    return plan


def _variant(c, extra: list[str]):
    """The module of a denoiser variant; lazily built where the components are (real mode)."""
    variant = c.denoiser_variant
    return variant(extra) if isinstance(c.denoiser, torch.nn.Module) else (lambda: variant(extra))


def export_all(plan, out_dir: Path, progress=None) -> dict[str, dict]:
    """Export + verify each graph; returns manifest graph entries. Raises on any error above its bound.

    A plan's module may be a function that builds it: it is then built when its turn comes and dropped before
    onnxruntime loads the written file, so one graph's weights are in memory at a time. `progress`
    (real/progress.py) skips graphs a previous run finished and records each one as it is verified."""
    entries = {}
    for module, spec, make_inputs in plan:
        if progress is not None and (done := progress.finished(spec.name)) is not None:
            entries[spec.name] = done
            print(f"  {spec.name}: done by an earlier run, kept")
            continue
        started = time.monotonic()
        with PeakRss() as building:
            built = module if isinstance(module, torch.nn.Module) else module()
            export_graph(built, spec, make_inputs, out_dir)
            expected = torch_outputs(built, spec, make_inputs, relative_error=verification_bound(spec, out_dir))
            del built
            gc.collect()
        exported = time.monotonic()
        with PeakRss() as verifying:
            compare_with_onnxruntime(expected, spec, make_inputs, out_dir)
        externals = [f"graphs/{name}" for name in external_data_files(out_dir / spec.file)]
        entries[spec.name] = spec.to_manifest(OPSET, externals)
        if progress is not None:
            progress.record(spec.name, entries[spec.name])
        print(f"  {spec.name}: {time.monotonic() - started:.1f} s; build + export {exported - started:.1f} s, peak RSS "
              f"{building.peak_mb:.0f} MB; onnxruntime verification {time.monotonic() - exported:.1f} s, peak RSS "
              f"{verifying.peak_mb:.0f} MB")
    return entries


def write_constants(c, out_dir: Path) -> dict:
    """Uncond ID tokens (zero id_cond / hidden states) and uncond Resampler tokens (zero embedding)."""
    with torch.no_grad():
        id_tokens = c.id_encoder.uncond_tokens().numpy().astype(np.float32)
        face_tokens = c.resampler(torch.zeros(1, 1, c.arch.arcface_dim)).numpy().astype(np.float32)
    constants = {}
    for name, array in (("uncond_id_tokens", id_tokens), ("uncond_resampler_tokens", face_tokens)):
        file = f"constants/{name}.f32"
        write_raw(out_dir / file, array)
        constants[name] = {"file": file, "dtype": "float32", "shape": list(array.shape), "byte_order": "little"}
    return constants


def id_attention_layer_count(c) -> int:
    return len(cross_attention_names(c.denoiser.unet))


def id_attention_layer_count_of(arch) -> int:
    """The same, read off a UNet of `arch` on the meta device (no weights)."""
    with torch.device("meta"):
        return len(cross_attention_names(build_unet(arch)))


def finish_manifest(out_dir: Path, header: dict, graphs: dict, constants: dict) -> dict:
    return write_manifest(out_dir, {**header, "graphs": graphs, "constants": constants})

