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
