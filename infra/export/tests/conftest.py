import subprocess
import sys
from pathlib import Path

import pytest
import torch

EXPORT_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = EXPORT_DIR.parents[1]
sys.path.insert(0, str(EXPORT_DIR))

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_bundle() -> Path:
    return REPO_ROOT / "bundles" / "tiny"


@pytest.fixture(scope="session")
def images_dir() -> Path:
    return REPO_ROOT / "test" / "fixtures" / "images"


@pytest.fixture(scope="session")
def rebuilt_tiny_bundle(tmp_path_factory, images_dir) -> Path:
    """The tiny bundle and its references rebuilt from scratch (about a minute), as a maintainer would: by the CLI,
    in a process of its own, so its CPU kernels are chosen before torch loads (cpu_kernels.py)."""
    out = tmp_path_factory.mktemp("rebuilt-tiny")
    subprocess.run([sys.executable, "-m", "ecomid_export", "--tiny-random", "--out", str(out), "--images", str(images_dir)],
                   cwd=EXPORT_DIR, check=True, stdout=subprocess.DEVNULL)
    return out


@pytest.fixture(scope="session", params=["committed", "rebuilt"])
def any_tiny_bundle(request, tiny_bundle) -> Path:
    """Each check of the committed bundle holds for a fresh rebuild too: the rebuild is judged by what matters."""
    return tiny_bundle if request.param == "committed" else request.getfixturevalue("rebuilt_tiny_bundle")


@pytest.fixture(scope="session")
def published_inputs(tmp_path_factory, tiny_bundle):
    """Every real-mode input at tiny widths, each in its publisher's layout (ecomid_export/published/)."""
    from ecomid_export.config import TINY
    from ecomid_export.published.all_inputs import write_all_inputs

    root = tmp_path_factory.mktemp("published")
    return write_all_inputs(root, TINY, tiny_bundle / "graphs" / "scrfd.onnx", tiny_bundle / "graphs" / "arcface.onnx",
                            log=lambda _: None, with_controlnets=True)
