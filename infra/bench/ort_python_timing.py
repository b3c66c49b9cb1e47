"""Fallback GPU measurement with Python onnxruntime(-gpu), for a GPU machine where onnxruntime-node's CUDA EP is missing.

Needs only numpy and onnxruntime-gpu (no torch, no onnx package). Measures, on the
provider given (CUDA by default):
  1. the tiny bundle's fused denoiser graph, one call at the reference job's shapes;
  2. the trivial SDXL-shape denoiser (infra/bench/trivial-denoiser.onnx): a run fed
     from host numpy arrays (what every onnxruntime-node run does: copy in, copy out,
     synchronise), against a run with IOBinding and every input already on the device
     (what Node cannot do). The difference is the per-step cost of the copies.
Prints one JSON object. Medians over --runs calls after a warm-up.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent


def median_ms(fn, runs: int) -> float:
    fn()  # warm-up: cuDNN algorithm search, arena growth
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def feeds_for(session: ort.InferenceSession) -> dict:
    """Inputs of the declared shapes (symbolic dims -> tiny-job sizes), filled with small values."""
    sizes = {"batch": 2, "latent_height": 8, "latent_width": 8, "text_tokens": 77, "id_tokens": 18,
             "image_height": 64, "image_width": 64}
    feeds = {}
    for i in session.get_inputs():
        shape = [d if isinstance(d, int) else sizes.get(str(d), 2) for d in i.shape]
        dtype = np.int64 if "int64" in i.type else np.float32
        feeds[i.name] = (np.full(shape, 2) if dtype == np.int64 else np.full(shape, 0.01)).astype(dtype)
    return feeds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, default=HERE.parents[1] / "bundles" / "tiny")
    parser.add_argument("--provider", default="CUDAExecutionProvider")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if hasattr(ort, "preload_dlls"):  # CUDA and cuDNN from pip nvidia-* wheels, when those are what the machine has
        try:
            ort.preload_dlls()
        except Exception as e:  # noqa: BLE001 - the provider check below reports the consequence
            print(f"preload_dlls: {e}", file=sys.stderr)
    if args.provider not in ort.get_available_providers():
        print(json.dumps({"error": f"{args.provider} not in {ort.get_available_providers()}"}))
        return 2
    providers = list(dict.fromkeys([args.provider, "CPUExecutionProvider"]))
    result = {"onnxruntime": ort.__version__, "provider": args.provider, "python": sys.version.split()[0]}

    tiny = ort.InferenceSession(str(args.bundle / "graphs" / "denoiser.onnx"), providers=providers)
    tiny_feeds = feeds_for(tiny)
    result["tiny_denoiser_ms"] = median_ms(lambda: tiny.run(None, tiny_feeds), args.runs)

    trivial = ort.InferenceSession(str(HERE / "trivial-denoiser.onnx"), providers=providers)
    feeds = feeds_for(trivial)
    result["trivial_host_fed_ms"] = median_ms(lambda: trivial.run(None, feeds), args.runs)
    if args.provider == "CUDAExecutionProvider":
        binding = trivial.io_binding()
        for name, value in feeds.items():  # copied to the device once, as a fused-loop runtime would keep them
            binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(value, "cuda", 0))
        binding.bind_output("noise_pred", "cuda", 0)

        def bound():
            trivial.run_with_iobinding(binding)
            binding.synchronize_outputs()
        result["trivial_device_bound_ms"] = median_ms(bound, args.runs)
    result["used_providers"] = trivial.get_providers()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
