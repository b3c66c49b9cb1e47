"""Reading the committed tiny bundle and its reference outputs in tests."""

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ecomid_export.tensor_io import read_raw


class Bundle:
    def __init__(self, folder: Path):
        self.folder = folder
        self.manifest = json.loads((folder / "manifest.json").read_text())
        self.reference_index = json.loads((folder / "reference" / "index.json").read_text())
        self._sessions = {}

    def ref(self, name: str) -> np.ndarray:
        entry = self.reference_index["tensors"][name]
        return read_raw(self.folder / "reference" / entry["file"], entry["dtype"], entry["shape"])

    def constant(self, name: str) -> np.ndarray:
        entry = self.manifest["constants"][name]
        return read_raw(self.folder / entry["file"], "float32", entry["shape"])

    def run(self, graph: str, **feeds) -> list[np.ndarray]:
        if graph not in self._sessions:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            self._sessions[graph] = ort.InferenceSession(str(self.folder / self.manifest["graphs"][graph]["file"]), options,
                                                         providers=["CPUExecutionProvider"])
        return self._sessions[graph].run(None, feeds)
