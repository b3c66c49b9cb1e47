"""Write and check manifest.json (schema: shared/json-schema/manifest.schema.json, from the zod schema)."""

import json
from pathlib import Path

import jsonschema

from .config import ArchConfig
from .face_detection import DET_SIZES, NMS_THRESHOLD, SCORE_THRESHOLD
from .licences import LICENCES
from .models.id_prep import CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, WHITE_LABELS
from .tensor_io import sha256_file, write_json

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "shared" / "json-schema" / "manifest.schema.json"
ARCFACE_TEMPLATE = [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]
FFHQ_TEMPLATE = [[192.98138, 239.94708], [318.90277, 240.1936], [256.63416, 314.01935], [201.26117, 371.41043],
                 [313.08905, 371.15118]]
KEYPOINT_COLORS = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [255, 0, 255]]
SCHEDULER = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "steps_offset": 1, "prediction_type": "epsilon", "timestep_spacing": "leading"}
ALL_SAMPLERS = ["euler", "euler_ancestral", "dpmpp_2m_karras", "dpm_2_karras", "dpm_solver_trailing"]


def preprocessing() -> dict:
    return {
        "scrfd": {"det_sizes": list(DET_SIZES), "input_mean": 127.5, "input_std": 128.0,
                  "score_threshold": SCORE_THRESHOLD, "nms_threshold": NMS_THRESHOLD, "strides": [8, 16, 32],
                  "anchors_per_cell": 2},
        "arcface": {"size": 112, "template": ARCFACE_TEMPLATE, "input_mean": 127.5, "input_std": 127.5},
        "ffhq": {"size": 512, "template": FFHQ_TEMPLATE, "border_bgr": [135, 133, 132]},
        "id_prep": {"input_size": 512, "output_size": 336, "parsing_mean": list(IMAGENET_MEAN),
                    "parsing_std": list(IMAGENET_STD), "clip_mean": list(CLIP_MEAN), "clip_std": list(CLIP_STD),
                    "white_labels": list(WHITE_LABELS)},
        "keypoints": {"colors": KEYPOINT_COLORS, "circle_radius": 10, "stick_width": 4, "stick_dim": 0.6},
        "vae": {"scaling_factor": 0.13025},
        # EcomID: uncond ID inputs U(0,1) * noise; the Resampler's uncond input 0.35 * U is the basic node's choice.
        "id_noise_scale": {"id_encoder": 1.0, "resampler": 1.0},
    }


def model_facts(arch: ArchConfig, id_attention_layers: int) -> dict:
    return {"latent_channels": 4, "vae_scale_factor": 8, "cross_attention_dim": arch.cross_attention_dim,
            "text_embeds_dim": arch.text_embeds_dim, "id_tokens": arch.id_tokens,
            "id_padding_tokens": {"fidelity": 8, "style": 16, "neutral": 0},
            "resampler_tokens": arch.resampler.num_queries, "arcface_dim": arch.arcface_dim,
            "id_attention_layers": id_attention_layers}


# The EcomXL ControlNets' conditions (issue 14's contract, from the model cards' examples:
# huggingface.co/alimama-creative/EcomXL_controlnet_inpaint and .../EcomXL_controlnet_softedge, README.md).
CONTROLNET_CONDITIONING = {
    "inpaint": ("RGB/255 of the product photo at the output size; pixels whose (grown) mask is set (to generate) are "
                "-1 on all three channels, as the EcomXL Inpaint card's make_inpaint_condition does", [-1.0, 1.0]),
    "softedge": ("a soft-edge map (PidiNet or HED, or given), gray replicated to RGB, /255, resized to the output "
                 "size with bilinear interpolation", [0.0, 1.0]),
}


def controlnet_sections(variants: list[list[str]], sources: dict[str, str]) -> dict:
    """`controlnets` (each extra ControlNet any variant runs: its licence source and condition) and
    `denoiser_variants` (every denoiser graph and what it runs), from the extra-ControlNet lists of the variants
    the bundle ships beside `denoiser` and `denoiser_no_control`."""
    from .graphs.denoiser import variant_graph_name  # the graph names live with the specs

    used = [name for name in CONTROLNET_CONDITIONING if any(name in v for v in variants)]
    return {
        "controlnets": {name: {"source": sources[name], "image_input": f"{name}_image", "scale_input": f"{name}_scale",
                               "conditioning": CONTROLNET_CONDITIONING[name][0],
                               "value_range": CONTROLNET_CONDITIONING[name][1]} for name in used},
        "denoiser_variants": [{"graph": "denoiser_no_control", "controlnets": []},
                              {"graph": "denoiser", "controlnets": ["identitynet"]},
                              *[{"graph": variant_graph_name(v), "controlnets": ["identitynet", *v]} for v in variants]],
        "extra_sources": [sources[name] for name in used],
    }


def list_files(bundle_dir: Path) -> list[dict]:
    """Every file except manifest.json and the reference/ folder beside the bundle."""
    files = []
    for path in sorted(p for p in bundle_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(bundle_dir).as_posix()
        if relative == "manifest.json" or relative.startswith("reference/"):
            continue
        files.append({"path": relative, "sha256": sha256_file(path), "bytes": path.stat().st_size})
    return files


def write_manifest(bundle_dir: Path, manifest: dict) -> dict:
    manifest = {**manifest, "files": list_files(bundle_dir)}
    used = {s for g in manifest["graphs"].values() for s in g["sources"]} | set(manifest.pop("extra_sources", []))
    used |= {d["source"] for d in manifest.get("edge_detectors", {}).values()}
    manifest["licences"] = {k: LICENCES[k] for k in sorted(used)}
    validate_manifest(manifest)
    write_json(bundle_dir / "manifest.json", manifest)
    return manifest


def validate_manifest(manifest: dict) -> None:
    """JSON Schema, plus the zod schema's cross-field checks that JSON Schema cannot state."""
    jsonschema.validate(manifest, json.loads(SCHEMA_PATH.read_text()))
    listed = {f["path"] for f in manifest["files"]}
    referenced = [g["file"] for g in manifest["graphs"].values()]
    referenced += [p for g in manifest["graphs"].values() for p in g["external_data"]]
    referenced += [manifest["tokenizer"]["file"], manifest["tokenizer"]["config_file"]]
    referenced += [c["file"] for c in manifest["constants"].values()]
    missing = [p for p in referenced if p not in listed]
    if missing:
        raise ValueError(f"manifest references files it does not list: {missing}")
    unknown = {s for g in manifest["graphs"].values() for s in g["sources"]} - set(manifest["licences"])
    unknown |= {c["source"] for c in manifest.get("controlnets", {}).values()} - set(manifest["licences"])
    unknown |= {d["source"] for d in manifest.get("edge_detectors", {}).values()} - set(manifest["licences"])
    if unknown:
        raise ValueError(f"graph sources without a licence entry: {sorted(unknown)}")
    _check_variants(manifest)
    missing_detectors = [d["graph"] for d in manifest.get("edge_detectors", {}).values() if d["graph"] not in manifest["graphs"]]
    if missing_detectors:
        raise ValueError(f"edge detector graphs not in graphs: {missing_detectors}")


def _check_variants(manifest: dict) -> None:
    """As the zod schema's checkControlNets: each variant's graph exists and takes its ControlNets' inputs, and
    every declared ControlNet is run by some variant."""
    controlnets, run = manifest.get("controlnets", {}), set()
    for variant in manifest.get("denoiser_variants", []):
        graph = manifest["graphs"].get(variant["graph"])
        if graph is None:
            raise ValueError(f"denoiser variant {variant['graph']} is not in graphs")
        inputs = {t["name"] for t in graph["inputs"]}
        for name in variant["controlnets"]:
            run.add(name)
            wanted = (["control_image", "cn_scale"] if name == "identitynet" else
                      [controlnets.get(name, {}).get("image_input"), controlnets.get(name, {}).get("scale_input")])
            if not set(wanted) <= inputs:
                raise ValueError(f"{variant['graph']} lacks the inputs of ControlNet {name} (or controlnets.{name} is missing)")
    idle = set(controlnets) - run
    if idle:
        raise ValueError(f"no denoiser variant runs ControlNets {sorted(idle)}")
