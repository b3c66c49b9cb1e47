"""A real bundle from the published files (see infra/export/README.md for files, memory and time)."""

import time
from types import SimpleNamespace

import torch

from ..bundle_writer import export_all, finish_manifest, graph_plan, id_attention_layer_count, write_constants
from ..config import REAL, ArchConfig
from ..manifest import ALL_SAMPLERS, SCHEDULER, model_facts, preprocessing
from ..models.denoiser import Denoiser
from ..models.half_precision import HalfPrecision
from ..models.id_encoder import IdEncoder
from ..models.id_prep import IdPrep
from ..models.resampler import Resampler
from ..models.text_encoders import BOS_TOKEN_ID, EOS_TOKEN_ID
from ..models.vae_decoder import VaeDecoder
from ..onnx_export import OPSET
from ..tiny.tokenizer import write_tokenizer
from .antelopev2 import copy_antelopev2
from .loaders import load_eva, load_facexlib, load_identitynet, load_instantid_resampler, load_pulid
from .sdxl import load_sdxl, load_vae_override

SOURCES = {"clip_l": ["sdxl"], "clip_g": ["sdxl"], "denoiser": ["sdxl", "ecomid", "pulid"],
           "denoiser_no_control": ["sdxl", "pulid"], "vae_decoder": ["sdxl"], "resampler": ["instantid"],
           "id_encoder": ["eva-clip", "pulid"], "id_prep": ["facexlib"], "retinaface": ["facexlib"],
           "arcface": ["antelopev2"], "scrfd": ["antelopev2"]}


def load_components(args, arch: ArchConfig) -> SimpleNamespace:
    print("loading SDXL ...")
    unet, clip_l, clip_g, vae = load_sdxl(args.sdxl, arch)
    if args.vae:
        load_vae_override(args.vae, vae)
    print("loading IdentityNet, PuLID, InstantID Resampler, EVA-CLIP, facexlib ...")
    denoiser = Denoiser(unet, load_identitynet(args.identitynet, arch), arch.cross_attention_dim)
    id_encoder = IdEncoder(arch)
    load_pulid(args.pulid, denoiser, id_encoder.mlp)
    load_eva(args.eva_clip, id_encoder.eva)
    resampler = Resampler(arch.resampler, arch.cross_attention_dim)
    load_instantid_resampler(args.instantid, resampler)
    retinaface, parser = load_facexlib(args.facexlib, arch)
    return SimpleNamespace(arch=arch, clip_l=clip_l.eval(), clip_g=clip_g.eval(), denoiser=denoiser.eval(),
                           denoiser_no_control=denoiser.without_identitynet().eval(), vae_decoder=VaeDecoder(vae).eval(),
                           resampler=resampler.eval(), id_encoder=id_encoder.eval(), id_prep=IdPrep(parser).eval(),
                           retinaface=retinaface.eval(), arcface=None, scrfd=None)


# Graphs that run in fp16 ("mixed": with fp32 islands inside). The VAE only when the fp16-fix VAE is given.
HALF_GRAPHS = {"denoiser": "mixed", "denoiser_no_control": "mixed", "resampler": "mixed", "clip_l": "float16",
               "clip_g": "float16", "id_encoder": "float16"}
HALF_TOLERANCE = 5e-2


def apply_precision(plan, args) -> list:
    if getattr(args, "precision", "fp16") != "fp16":
        return plan
    half = dict(HALF_GRAPHS, **({"vae_decoder": "float16"} if args.vae else {}))
    wrapped = []
    for module, spec, make_inputs in plan:
        if spec.name in half:
            module, spec.precision, spec.tolerance = HalfPrecision(module), half[spec.name], HALF_TOLERANCE
        wrapped.append((module, spec, make_inputs))
    return wrapped


@torch.no_grad()
def build_real_bundle(args, arch: ArchConfig = REAL) -> dict:
    """`arch` is REAL except in tests, which feed tiny files in the published formats."""
    started = time.monotonic()
    c = load_components(args, arch)
    constants = write_constants(c, args.out)  # in fp32, before any graph is halved
    plan = [step for step in graph_plan(c, SOURCES, large=True) if step[1].name not in ("arcface", "scrfd")]
    graphs = export_all(apply_precision(plan, args), args.out)
    graphs.update(copy_antelopev2(args.antelopev2, args.out, OPSET))
    write_tokenizer(args.out / "tokenizer")
    header = {
        "format_version": 1, "id": args.bundle_id, "version": args.bundle_version, "fixture": False,
        "description": f"EcomID on {args.sdxl.name}: SDXL + PuLID v1 ID attention + EcomID IdentityNet. Includes "
                       "insightface antelopev2 models, released for non-commercial research only.",
        "created_by": "python -m ecomid_export", "model": model_facts(c.arch, id_attention_layer_count(c)),
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
    manifest = finish_manifest(args.out, header, graphs, constants)
    total = sum(f["bytes"] for f in manifest["files"])
    print(f"bundle {args.bundle_id}: {len(manifest['files'])} files, {total / 1e9:.2f} GB, {time.monotonic() - started:.0f} s")
    return manifest
