"""Denoiser variants per ControlNet combination, or one graph with ONNX If gates? Measured on the tiny architecture.

Exports, at tiny widths with seeded random weights (the tiny bundle's modules): `denoiser` (IdentityNet alone), the
variant with both EcomXL ControlNets ungated, and the same graph gated (ecomid_export/controlnet_gates.py). Prints
each file's bytes and onnxruntime's CPU time per denoiser step (one evaluation of a [cond; uncond] batch of 2, the
median of --repeats after a warm-up) with the extra ControlNets' scales on and off, at each --size.

    infra/export/.venv/bin/python infra/bench/denoiser_controlnet_gates.py [--sizes 64 256] [--repeats 15]

No timed assertion depends on it: the numbers go to infra/export/README.md with the machine that gave them.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "export"))

from ecomid_export.config import TINY  # noqa: E402
from ecomid_export.graphs.denoiser import denoiser_inputs, denoiser_spec  # noqa: E402
from ecomid_export.models.denoiser import Denoiser, build_identitynet, build_sdxl_controlnet, build_unet  # noqa: E402
from ecomid_export.onnx_export import export_graph  # noqa: E402
from ecomid_export.tiny.random_init import enliven  # noqa: E402

EXTRA = ["inpaint", "softedge"]


def seeded(seed: int, build):
    torch.manual_seed(seed)
    return enliven(build(), torch.Generator().manual_seed(seed + 1000))


def export_three(out: Path) -> dict[str, Path]:
    denoiser = seeded(3, lambda: Denoiser(build_unet(TINY), build_identitynet(TINY), TINY.cross_attention_dim))
    extra = {name: seeded(11 + i, lambda: build_sdxl_controlnet(TINY)) for i, name in enumerate(EXTRA)}
    files = {}
    for label, module, names, gated in (("identitynet only (denoiser)", denoiser, [], False),
                                        ("variant, ungated", denoiser.with_extra(extra), EXTRA, False),
                                        ("one graph, If-gated", denoiser.with_extra(extra), EXTRA, True)):
        spec = denoiser_spec(TINY, True, ["tiny-random"], names)
        if not gated:
            spec.gates = {}
        folder = out / label.split()[0].strip(",")
        export_graph(module, spec, denoiser_inputs(TINY), folder)
        files[label] = folder / spec.file
    return files


def session_and_feeds(path: Path, size: int, scales_on: bool):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3  # the constant-sharing pass cannot rename names a branch reads: it says so, harmlessly
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    dims = {"batch": 2, "latent_height": size // 8, "latent_width": size // 8, "text_tokens": 77, "id_tokens": 18,
            "image_height": size, "image_width": size}
    inputs = denoiser_inputs(TINY)(dims, 0)
    if not scales_on:
        inputs.update(inpaint_scale=torch.zeros(2), softedge_scale=torch.zeros(2))
    feeds = {i.name: inputs[i.name].numpy() for i in session.get_inputs()}
    session.run(None, feeds)  # warm-up
    return session, feeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        files = export_three(Path(tmp))
        for label, path in files.items():
            print(f"{label:<30} {path.stat().st_size:>10,} bytes")
        for size in args.sizes:
            cases = {}
            for label, path in files.items():
                for on in ([True] if "identitynet only" in label else [True, False]):
                    state = "" if "identitynet only" in label else (" extras on" if on else " extras off")
                    cases[label + state] = session_and_feeds(path, size, on)
            times = {case: [] for case in cases}
            for _ in range(args.repeats):  # round-robin, so a busy moment of a shared machine hits every case alike
                for case, (session, feeds) in cases.items():
                    started = time.perf_counter()
                    session.run(None, feeds)
                    times[case].append(time.perf_counter() - started)
            for case, measured in times.items():
                print(f"{size}x{size} {case:<42} median {1000 * statistics.median(measured):8.1f} ms, "
                      f"min {1000 * min(measured):8.1f} ms per step")


if __name__ == "__main__":
    main()
