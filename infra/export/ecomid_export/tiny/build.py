"""--tiny-random: the tiny bundle (real architectures, tiny widths, seeded random weights)."""

import shutil
import time
from pathlib import Path

import torch

from ..bundle_writer import export_all, finish_manifest, graph_plan, id_attention_layer_count, write_constants
from ..graphs.denoiser import variant_graph_name
from ..manifest import ALL_SAMPLERS, SCHEDULER, controlnet_sections, model_facts, preprocessing
from ..models.text_encoders import BOS_TOKEN_ID, EOS_TOKEN_ID
from .components import build_tiny_components
from .edge_detectors import build_tiny_edge_detectors, export_tiny_edge_detectors
from .tokenizer import write_tokenizer

BUNDLE_ID = "ecomid-tiny"
BUNDLE_VERSION = "0.1.0"
DESCRIPTION = (
    "FIXTURE for tests and the local stack: every graph is the real architecture at tiny width with seeded random "
    "weights, so it generates noise, not portraits. Its scrfd graph is a tiny SCRFD-shaped network fitted to "
    "test/fixtures/images: it finds the one face in astronaut.png and none in coffee.png or chelsea.png, nothing more. "
    "arcface is a tiny ResNet standing in for antelopev2's glintr100 (real bundles ship the insightface antelopev2 "
    "models, licensed for non-commercial research only). pidinet and hed are controlnet_aux's soft-edge detectors at tiny "
    "width with random weights (real bundles ship PiDiNet's table5 weights, whose authors ask to be contacted before "
    "any commercial use). The tokenizer is the real CLIP BPE vocabulary."
)

GRAPH_SOURCES = {name: ["tiny-random"] for name in (
    "clip_l", "clip_g", "denoiser", "denoiser_no_control", "vae_decoder", "resampler", "id_encoder", "id_prep",
    "arcface")}
GRAPH_SOURCES["scrfd"] = ["tiny-fitted-scrfd"]
CONTROLNET_SOURCES = {"inpaint": "tiny-random", "softedge": "tiny-random"}


def header(arch, id_layers: int, denoiser_variants: list[list[str]], edge_detectors: dict) -> dict:
    sections = controlnet_sections(denoiser_variants, CONTROLNET_SOURCES)
    return {
        "controlnets": sections["controlnets"], "denoiser_variants": sections["denoiser_variants"],
        "edge_detectors": edge_detectors,
        "format_version": 1, "id": BUNDLE_ID, "version": BUNDLE_VERSION, "description": DESCRIPTION, "fixture": True,
        "created_by": "python -m ecomid_export --tiny-random",
        "model": model_facts(arch, id_layers), "preprocessing": preprocessing(),
        "defaults": {"steps": 4, "guidance": 3.5, "sampler": "dpm_2_karras", "identity_weight": 0.3,
                     "structure_strength": 0.8, "id_mode": "fidelity", "width": 64, "height": 64},
        "limits": {"min_side": 64, "max_side": 256, "max_pixels": 256 * 256, "side_multiple": 64, "max_steps": 50,
                   "samplers": ALL_SAMPLERS},
        "scheduler": SCHEDULER,
        "tokenizer": {"file": "tokenizer/tokenizer.json", "config_file": "tokenizer/tokenizer_config.json",
                      "max_length": arch.max_text_length, "bos_token_id": BOS_TOKEN_ID, "eos_token_id": EOS_TOKEN_ID,
                      "pad_token_id": {"clip_l": EOS_TOKEN_ID, "clip_g": 0}},
        "extra_sources": ["clip-bpe", *sections["extra_sources"]],
    }


def build_tiny_bundle(out_dir: Path, images_dir: Path, seed: int = 0):
    """Build the bundle into `out_dir` (its graphs/, constants/, tokenizer/ are replaced); returns (manifest, components)."""
    torch.set_num_threads(1)  # one thread: the same bits on every machine we have tried
    started = time.monotonic()
    for sub in ("graphs", "constants", "tokenizer"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    print("building tiny components (fitting the SCRFD fixture)...")
    components = build_tiny_components(images_dir, seed)
    print(f"  components ready in {time.monotonic() - started:.1f} s; exporting and verifying graphs:")
    sources = {**GRAPH_SOURCES, **{variant_graph_name(v): ["tiny-random"] for v in components.denoiser_variants}}
    graphs = export_all(graph_plan(components, sources), out_dir)
    edge_graphs, edge_detectors = export_tiny_edge_detectors(build_tiny_edge_detectors(seed), out_dir)
    graphs.update(edge_graphs)
    constants = write_constants(components, out_dir)
    write_tokenizer(out_dir / "tokenizer")
    manifest = finish_manifest(out_dir, header(components.arch, id_attention_layer_count(components),
                                               components.denoiser_variants, edge_detectors), graphs, constants)
    total = sum(f["bytes"] for f in manifest["files"])
    print(f"tiny bundle: {len(manifest['files'])} files, {total / 1e6:.1f} MB, {time.monotonic() - started:.1f} s")
    return manifest, components
