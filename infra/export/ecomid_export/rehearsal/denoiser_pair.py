"""python -m ecomid_export.rehearsal.denoiser_pair --work DIR: the fused denoiser exported twice, fp16 and fp32,
from the rehearsal's full-size published-layout files (written if DIR/published lacks them), for
infra/bench/precision_check.py on a GPU. Only what the denoiser needs is written and exported; onnxruntime's
CPU verification is skipped (the GPU comparison is the check, and the CPU one is the export's: rehearse)."""

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace

import torch

from ..bundle_writer import graph_plan
from ..config import REAL
from ..models.half_precision import HalfPrecision
from ..onnx_export import export_graph
from ..published.identitynet import write_identitynet
from ..published.pulid import write_pulid_comfyui
from ..published.sdxl_single_file import write_sdxl_single_file
from ..real.build import SOURCES
from ..real.components import build_denoiser


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecomid_export.rehearsal.denoiser_pair", description=__doc__)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args(argv)
    published = args.work / "published"
    inputs = SimpleNamespace(sdxl=published / "sd_xl_base_1.0.safetensors",
                             identitynet=published / "SDXL-EcomID" / "diffusion_pytorch_model.safetensors",
                             pulid=published / "ip-adapter_pulid_sdxl_fp16.safetensors")
    # The same files and seeds as python -m ecomid_export.published --widths real (all_inputs.py).
    if not inputs.sdxl.is_file():
        write_sdxl_single_file(inputs.sdxl, REAL, 0)
    if not inputs.identitynet.is_file():
        write_identitynet(inputs.identitynet.parent, REAL, 10)
    if not inputs.pulid.is_file():
        write_pulid_comfyui(inputs.pulid, REAL, 20)
    for precision, dtype in (("fp16", torch.float16), ("fp32", torch.float32)):
        out = args.work / f"denoiser-{precision}"
        if (out / "graphs" / "denoiser.onnx").is_file():
            continue
        components = SimpleNamespace(arch=REAL, **{name: None for name in SOURCES}, denoiser=None)
        _, spec, make_inputs = next(step for step in graph_plan(components, SOURCES, large=True) if step[1].name == "denoiser")
        module = build_denoiser(inputs, REAL, True, dtype)
        export_graph(HalfPrecision(module) if precision == "fp16" else module, spec, make_inputs, out)
        print(f"{out / spec.file}", flush=True)
        del module
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
