"""The soft-edge annotator files controlnet_aux loads from lllyasviel/Annotators, at tiny widths in their published layout:

- `table5_pidinet.pth`: hellozhuo/pidinet's training checkpoint (main.py save_checkpoint of a DataParallel model),
  torch.save of {'epoch': int, 'state_dict': OrderedDict} with every key under 'module.' and float32 tensors
  (read off hellozhuo/pidinet trained_models/table5_pidinet.pth: epoch 19, 83 tensors, no optimizer state).
  Written here from controlnet_aux's own PiDiNet class (pidi/model.py, carv4, sa=True, dil), so names, order and
  shapes are the publisher's.
- `ControlNetHED.pth`: a plain state dict of controlnet_aux hed/__init__.py ControlNetHED_Apache2 in float16
  (hed.py says how the dtype is known). That class fixes its widths, so the layout is written by hand from it.

controlnet_aux (pinned in requirements-nodeps.txt, installed without its dependencies) is loaded by its detector
files only: its package __init__ imports every detector and with them timm, torchvision, scikit-image and more.
"""

import importlib
import importlib.util
import sys
import types
from collections import OrderedDict
from pathlib import Path

import torch

from ..annotators.hed import HedConfig
from ..annotators.pidinet import CHECKPOINT_PREFIX, PidiNetConfig
from ..annotators.tiny import random_hed_state, random_pidinet_state

PIDINET_FILE = "table5_pidinet.pth"
HED_FILE = "ControlNetHED.pth"
PIDINET_EPOCH = 19  # the published checkpoint's; any int stands for it
_ALIAS = "_controlnet_aux_detectors"


def controlnet_aux_module(name: str) -> types.ModuleType:
    """controlnet_aux.<name> (e.g. "pidi.model", "hed", "util") imported under a private package name whose
    __init__ is empty, so its relative imports work and the real package __init__ never runs."""
    if _ALIAS not in sys.modules:
        spec = importlib.util.find_spec("controlnet_aux")
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError("controlnet_aux is not installed: run infra/export/setup_venv.sh (requirements-nodeps.txt)")
        package = types.ModuleType(_ALIAS)
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules[_ALIAS] = package
    return importlib.import_module(f"{_ALIAS}.{name}")


def controlnet_aux_pidinet(config: PidiNetConfig) -> torch.nn.Module:
    """controlnet_aux's own PiDiNet at `config`'s widths (its pidinet() is this at 60 / 24)."""
    model = controlnet_aux_module("pidi.model")
    return model.PiDiNet(config.inplane, model.config_model("carv4"), dil=config.dil, sa=True)


def pidinet_layout(config: PidiNetConfig) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in controlnet_aux_pidinet(config).state_dict().items()}


def hed_layout(config: HedConfig) -> dict[str, tuple[int, ...]]:
    """ControlNetHED_Apache2's names: norm, then blockN.convs.i (3x3) and blockN.projection (1x1 to one channel)."""
    layout = {"norm": (1, 3, 1, 1)}
    c_in = 3
    for n, (width, layers) in enumerate(zip(config.widths, config.convs), start=1):
        for i in range(layers):
            layout[f"block{n}.convs.{i}.weight"] = (width, c_in if i == 0 else width, 3, 3)
            layout[f"block{n}.convs.{i}.bias"] = (width,)
        layout[f"block{n}.projection.weight"] = (1, width, 1, 1)
        layout[f"block{n}.projection.bias"] = (1,)
        c_in = width
    return layout


def write_pidinet(folder: Path, config: PidiNetConfig, seed: int = 0) -> Path:
    """Keys and order from controlnet_aux's class; values random_pidinet_state's (same seed, same tensors)."""
    folder.mkdir(parents=True, exist_ok=True)
    values = random_pidinet_state(config, seed)
    path = folder / PIDINET_FILE
    state = OrderedDict((CHECKPOINT_PREFIX + k, values[k]) for k in pidinet_layout(config))
    torch.save({"epoch": PIDINET_EPOCH, "state_dict": state}, path)
    return path


def write_hed(folder: Path, config: HedConfig, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    values = random_hed_state(config, seed)
    path = folder / HED_FILE
    torch.save(OrderedDict((k, values[k].half()) for k in hed_layout(config)), path)
    return path


def write_annotators(folder: Path, pidinet: PidiNetConfig, hed: HedConfig, seed: int = 0) -> dict[str, Path]:
    """Both files in one folder, as lllyasviel/Annotators holds them."""
    return {"pidinet": write_pidinet(folder, pidinet, seed), "hed": write_hed(folder, hed, seed + 1)}
