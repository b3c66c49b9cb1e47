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


def reference_denoiser_feeds(bundle, p: dict) -> dict:
    """The denoiser's inputs besides sample and timestep, [cond, uncond] rows, from the main reference run's
    conditioning (`p`: reference/index.json parameters), as the TypeScript pipeline builds them."""
    m = bundle.manifest
    padding = m["model"]["id_padding_tokens"][p["id_mode"]]
    width = m["model"]["cross_attention_dim"]

    def pad(tokens):
        return np.concatenate([tokens, np.zeros((1, padding, width), np.float32)], axis=1)

    hint = bundle.ref("control_image").astype(np.float32).transpose(2, 0, 1)[None] / 255.0
    return {
        "encoder_hidden_states": bundle.ref("encoder_hidden_states"), "text_embeds": bundle.ref("text_embeds"),
        "time_ids": np.array([[p["height"], p["width"], 0, 0, p["height"], p["width"]]] * 2, np.float32),
        "id_tokens": np.concatenate([pad(bundle.ref("id_tokens")), pad(bundle.constant("uncond_id_tokens"))]),
        "id_weight": np.full(2, p["identity_weight"], np.float32), "id_mode": np.full(2, 2, np.int64),
        "control_image": np.repeat(hint, 2, axis=0),
        "face_tokens": np.concatenate([bundle.ref("resampler_tokens"), bundle.constant("uncond_resampler_tokens")]),
        "cn_scale": np.full(2, p["structure_strength"], np.float32),
    }
