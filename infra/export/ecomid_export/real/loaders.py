"""Strict loaders from the published files into the exporter's modules (one function per source; SDXL in sdxl.py).

Every loader refuses missing, unexpected or mis-shaped tensors by name (strict_load.load_strict), and files
of another model by what they are (pulid_layouts.py, identitynet_config.py). `arch` is REAL for real bundles;
tests pass TINY with files written in the same layouts (ecomid_export/published/).
"""

from pathlib import Path

import torch

from ..config import ArchConfig
from ..models.bisenet import BiSeNet
from ..models.denoiser import Denoiser, build_identitynet, build_sdxl_controlnet
from ..models.eva_vit import EvaVisionTower
from ..models.id_mlp import IdEncoderMlp
from ..models.resampler import Resampler
from ..models.retinaface import RetinaFace
from ..strict_load import WeightMismatchError, load_strict, take_prefix
from .identitynet_config import check_identitynet_config, refuse_foreign_controlnet
from .pulid_layouts import pulid_sections
from .materialize import materialized
from .weights import read_component, read_tensors, strip_prefix

FACEXLIB_DETECTION = "detection_Resnet50_Final.pth"
FACEXLIB_PARSING = "parsing_bisenet.pth"


def batch_norm_counters(module) -> list[str]:
    """BatchNorm's num_batches_tracked: a training counter that inference never reads; files saved before
    PyTorch 0.4.1 lack it, later ones carry it."""
    return [k for k in module.state_dict() if k.endswith("num_batches_tracked")]


def load_identitynet(path: Path, arch: ArchConfig, dtype: torch.dtype = torch.float32):
    """EcomID's IdentityNet: its published diffusion_pytorch_model.safetensors (no config), or a diffusers
    ControlNet folder, whose config.json must be InstantID's ControlNet config (at `arch`'s widths).
    Allocated in `dtype` from the start (the published file is 5 GB of fp32)."""
    model = materialized(lambda: build_identitynet(arch), dtype)
    if path.is_dir():
        check_identitynet_config(path, model.config)
        tensors = read_component(path)
    else:
        tensors = read_tensors(path)
    refuse_foreign_controlnet(path, tensors)
    load_strict(model, tensors, f"IdentityNet {path.name}")
    return model


# The EcomXL ControlNets, published as diffusers ControlNet folders (config.json + diffusion_pytorch_model.safetensors:
# huggingface.co/alimama-creative/EcomXL_controlnet_inpaint and .../EcomXL_controlnet_softedge, "Files").
ECOMXL_CONTROLNETS = {
    "inpaint": ("EcomXL Inpaint ControlNet", "Pass alimama-creative/EcomXL_controlnet_inpaint (the folder with config.json "
                                             "and diffusion_pytorch_model.safetensors)"),
    "softedge": ("EcomXL Softedge ControlNet", "Pass alimama-creative/EcomXL_controlnet_softedge (the folder with "
                                               "config.json and diffusion_pytorch_model.safetensors)"),
}


def load_ecomxl_controlnet(name: str, folder: Path, arch: ArchConfig, dtype: torch.dtype = torch.float32):
    """An EcomXL ControlNet folder: its config.json must be an SDXL ControlNet's with an RGB condition (3 channels),
    its weights must fit that module exactly; an SD 1.x ControlNet or another layout is named for what it is."""
    role, use_instead = ECOMXL_CONTROLNETS[name]
    if not (folder / "config.json").is_file():
        raise WeightMismatchError(f"{role} {folder.name}: no config.json (the EcomXL ControlNets are published as "
                                  f"diffusers folders). {use_instead}.")
    model = materialized(lambda: build_sdxl_controlnet(arch), dtype)
    check_identitynet_config(folder, model.config, role, use_instead, reference="an SDXL ControlNet's config",
                             label="SDXL ControlNet")
    tensors = read_component(folder)
    refuse_foreign_controlnet(folder, tensors, role, use_instead)
    load_strict(model, tensors, f"{role} {folder.name}")
    return model


def load_pulid(path: Path, denoiser: Denoiser | None, id_mlp: IdEncoderMlp | None) -> None:
    """IDEncoder (`image_proj.*`) and the ID attention K/V of layer N (`ip_adapter.N.to_{k,v}_ip.weight`), from
    the ComfyUI file or, renamed, PuLID's original pulid_v1.bin; one part alone when the other target is None
    (the export builds the ID encoder and the denoisers at different times)."""
    image_proj, ip_adapter = pulid_sections(path)
    if id_mlp is not None:
        load_strict(id_mlp, image_proj, f"PuLID {path.name} (image_proj)")
    if denoiser is not None:
        load_strict(denoiser.id_attention, ip_adapter, f"PuLID {path.name} (ip_adapter)")


def load_instantid_resampler(path: Path, resampler: Resampler) -> None:
    """ip-adapter.bin holds {"image_proj": ..., "ip_adapter": ...}; EcomID uses only the Resampler."""
    data = read_tensors(path)
    if not isinstance(data.get("image_proj"), dict):
        raise WeightMismatchError(
            f"InstantID {path.name}: no image_proj section (found {sorted(data)[:8]}); pass InstantX/InstantID's "
            "ip-adapter.bin, whose image_proj is the Resampler")
    load_strict(resampler, data["image_proj"], f"InstantID {path.name} (image_proj)")


def eva_state_dict(path: Path) -> dict:
    """As EVA-CLIP's own loader (eva_clip/factory.py load_state_dict) unwraps a checkpoint: the first of the
    `model`, `module`, `state_dict` entries if there is one, then a `module.` prefix (DataParallel)."""
    data = read_tensors(path)  # already unwraps `state_dict`
    for wrapper in ("model", "module", "state_dict"):
        if isinstance(data.get(wrapper), dict):
            data = data[wrapper]
            break
    return strip_prefix(data, "module.")


def load_eva(path: Path, tower: EvaVisionTower) -> None:
    tensors = take_prefix(eva_state_dict(path), "visual.")
    if not tensors:
        raise WeightMismatchError(f"EVA-CLIP {path.name}: no visual.* tensors; pass QuanSun/EVA-CLIP's "
                                  "EVA02_CLIP_L_336_psz14_s6B.pt (the whole CLIP checkpoint: its visual tower is used)")
    load_strict(tower, tensors, f"EVA-CLIP {path.name} (visual)", derived_keys=tower.derived_checkpoint_keys())


def _facexlib_file(folder: Path, name: str, which: str) -> Path:
    if not (folder / name).is_file():
        found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else "no such folder"
        raise FileNotFoundError(
            f"facexlib: {folder / name} not found (found {found}); download {name} from xinntao/facexlib's "
            f"releases ({which})")
    return folder / name


def load_facexlib_parser(folder: Path, arch: ArchConfig) -> BiSeNet:
    """BiSeNet (id_prep's face parser), loaded as facexlib/parsing/__init__.py loads it: the file as it is."""
    parser = BiSeNet(arch.bisenet_widths)
    load_strict(parser, read_tensors(_facexlib_file(folder, FACEXLIB_PARSING, "PuLID parses faces with BiSeNet, not parsenet")), f"facexlib {FACEXLIB_PARSING}",
                derived_keys=batch_norm_counters(parser))
    return parser


def load_facexlib_detector(folder: Path, arch: ArchConfig) -> RetinaFace:
    """RetinaFace-R50 with its `module.` prefix stripped, as facexlib/detection/__init__.py does. No bundle graph
    uses it: only the EVA-crop measurement (infra/bench/eva_crop_landmarks.py) runs it."""
    detector = RetinaFace(arch.retinaface_widths, arch.retinaface_blocks)
    load_strict(detector, strip_prefix(read_tensors(_facexlib_file(folder, FACEXLIB_DETECTION, "PuLID detects with RetinaFace-R50")), "module."),
                f"facexlib {FACEXLIB_DETECTION}", derived_keys=batch_norm_counters(detector))
    return detector
