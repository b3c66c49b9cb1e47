"""A real bundle from the published files (see infra/export/README.md for files, memory and time)."""

import time
from types import SimpleNamespace

import torch

from ..bundle_writer import export_all, finish_manifest, graph_plan, id_attention_layer_count_of, write_constants
from ..config import REAL, ArchConfig
from ..graphs.denoiser import variant_graph_name
from ..manifest import ALL_SAMPLERS, SCHEDULER, controlnet_sections, model_facts, preprocessing
from ..models.half_precision import HalfPrecision
from ..models.text_encoders import BOS_TOKEN_ID, EOS_TOKEN_ID
from ..onnx_export import OPSET
from ..peak_rss import PeakRss
from ..tiny.tokenizer import write_tokenizer
from .antelopev2 import copy_antelopev2
from .components import build_id_encoder, build_resampler, denoiser_variants, lazy_components
from .edge_detectors import export_real_edge_detectors
from .few_step import apply_preset, check_shipped_scheduler
from .progress import ExportProgress, inputs_fingerprint

SOURCES = {"clip_l": ["sdxl"], "clip_g": ["sdxl"], "denoiser": ["sdxl", "ecomid", "pulid"],
           "denoiser_no_control": ["sdxl", "pulid"], "vae_decoder": ["sdxl"], "resampler": ["instantid"],
           "id_encoder": ["eva-clip", "pulid"], "id_prep": ["facexlib"],
           "arcface": ["antelopev2"], "scrfd": ["antelopev2"]}


# Graphs that run in fp16 ("mixed": with fp32 islands inside). The VAE only when the fp16-fix VAE is given.
HALF_GRAPHS = {"denoiser": "mixed", "denoiser_no_control": "mixed", "resampler": "mixed", "clip_l": "float16",
               "clip_g": "float16", "id_encoder": "float16"}
HALF_TOLERANCE = 5e-2
CONTROLNET_SOURCES = {"inpaint": "ecomxl-inpaint", "softedge": "ecomxl-softedge"}


def variant_sources(variants: list[list[str]]) -> dict[str, list[str]]:
    return {variant_graph_name(v): [*SOURCES["denoiser"], *(CONTROLNET_SOURCES[n] for n in v)] for v in variants}


def apply_precision(plan, args) -> list:
    """fp16 graphs: their (lazily built) modules wrapped in HalfPrecision, their spec stating it."""
    if getattr(args, "precision", "fp16") != "fp16":
        return plan
    half = dict(HALF_GRAPHS, **({"vae_decoder": "float16"} if args.vae else {}))
    wrapped = []
    for build, spec, make_inputs in plan:
        if spec.name in half or spec.name.startswith("denoiser_") and spec.name != "denoiser_no_control":
            precision = half.get(spec.name, half["denoiser"])  # the ControlNet variants: as the denoiser
            build, spec.precision, spec.tolerance = (lambda b=build: HalfPrecision(b())), precision, HALF_TOLERANCE
        wrapped.append((build, spec, make_inputs))
    return wrapped


def write_real_constants(args, arch: ArchConfig) -> dict:
    """The uncond ID and Resampler tokens, in fp32 from the fp32 modules (then freed)."""
    constants_from = SimpleNamespace(arch=arch, id_encoder=build_id_encoder(args, arch), resampler=build_resampler(args, arch))
    return write_constants(constants_from, args.out)


@torch.no_grad()
def build_real_bundle(args, arch: ArchConfig = REAL) -> dict:
    """`arch` is REAL except in tests, which feed tiny files in the published formats."""
    started = time.monotonic()
    if getattr(args, "few_step", None):  # before hours of export, not after
        check_shipped_scheduler(args.sdxl, args.few_step)
    half = getattr(args, "precision", "fp16") == "fp16"
    c = lazy_components(args, arch, torch.float16 if half else torch.float32)
    with PeakRss() as peak:
        constants = write_real_constants(args, arch)
    print(f"  constants: {time.monotonic() - started:.1f} s, peak RSS {peak.peak_mb:.0f} MB")
    variants = denoiser_variants(args)
    sections = controlnet_sections(variants, CONTROLNET_SOURCES)
    plan = [step for step in graph_plan(c, {**SOURCES, **variant_sources(variants)}, large=True)
            if step[1].name not in ("arcface", "scrfd")]
    progress = ExportProgress(args.out, inputs_fingerprint(args))
    graphs = export_all(apply_precision(plan, args), args.out, progress)
    graphs.update(copy_antelopev2(args.antelopev2, args.out, OPSET))
    detector_graphs, edge_detectors = export_real_edge_detectors(args, arch, args.out)
    graphs.update(detector_graphs)
    write_tokenizer(args.out / "tokenizer")
    header = {
        "format_version": 1, "id": args.bundle_id, "version": args.bundle_version, "fixture": False,
        "description": f"EcomID on {args.sdxl.name}: SDXL + PuLID v1 ID attention + EcomID IdentityNet. Includes "
                       "insightface antelopev2 models, released for non-commercial research only.",
        "created_by": "python -m ecomid_export", "model": model_facts(arch, id_attention_layer_count_of(arch)),
        "preprocessing": preprocessing(),
        "defaults": {"steps": 25, "guidance": 3.5, "sampler": "dpm_2_karras", "identity_weight": 0.3,
                     "structure_strength": 0.8, "id_mode": "fidelity", "width": 1024, "height": 1024},
        "limits": {"min_side": 512, "max_side": 2048, "max_pixels": 1536 * 1536, "side_multiple": 64, "max_steps": 100,
                   "samplers": ALL_SAMPLERS},
        "scheduler": SCHEDULER,
        "tokenizer": {"file": "tokenizer/tokenizer.json", "config_file": "tokenizer/tokenizer_config.json",
                      "max_length": 77, "bos_token_id": BOS_TOKEN_ID, "eos_token_id": EOS_TOKEN_ID,
                      "pad_token_id": {"clip_l": EOS_TOKEN_ID, "clip_g": 0}},
        "extra_sources": ["clip-bpe"],
    }
    if getattr(args, "few_step", None):
        header = apply_preset(header, args.few_step)
        header["description"] += f" Few-step base ({args.few_step}): trailing schedule, guidance off."
    if variants:
        header.update(controlnets=sections["controlnets"], denoiser_variants=sections["denoiser_variants"])
    if edge_detectors:
        header["edge_detectors"] = edge_detectors
    hashing = time.monotonic()
    manifest = finish_manifest(args.out, header, graphs, constants)
    print(f"  manifest (sha256 of every file): {time.monotonic() - hashing:.1f} s")
    progress.complete()
    total = sum(f["bytes"] for f in manifest["files"])
    print(f"bundle {args.bundle_id}: {len(manifest['files'])} files, {total / 1e9:.2f} GB, {time.monotonic() - started:.0f} s")
    return manifest
