"""fp16 against fp32: the same denoiser exported both ways, run on one provider (CUDA on a lent GPU) through the
same sampling loop at 1024x1024, 30 steps, with classifier-free guidance.

Verification at export time runs only on onnxruntime's CPU provider, which runs fp16 graphs by casting their
weights to fp32 (onnx.ts explains); on CUDA the fp16 kernels run for real, so this is where fp16's error shows.
Reports, as one JSON object: seconds per step of each graph (median after a warm-up step), the largest relative
error of the fp16 noise prediction against fp32 on the same latents at every step (relative to max(1, |fp32|),
as the exporter's verification measures it; the exporter states 5e-2 for fp16 graphs, real/build.py
HALF_TOLERANCE), and how far the two final latents drift apart when each graph follows its own trajectory.
Needs numpy and onnxruntime(-gpu) only. Inputs are seeded random conditioning of the shapes the graphs declare.
"""

import argparse
import json
import time

import numpy as np
import onnxruntime as ort

HALF_TOLERANCE = 5e-2  # infra/export/ecomid_export/real/build.py


def euler_sigmas(steps: int) -> np.ndarray:
    """EulerDiscreteScheduler as SDXL configures it: scaled-linear betas 0.00085..0.012 over 1000 steps,
    "leading" spacing with offset 1, then 0 appended."""
    betas = np.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=np.float64) ** 2
    alphas = np.cumprod(1.0 - betas)
    all_sigmas = ((1 - alphas) / alphas) ** 0.5
    timesteps = (np.arange(0, steps) * (1000 // steps)).round()[::-1] + 1
    return np.append(np.interp(timesteps, np.arange(1000), all_sigmas), 0.0), timesteps


def conditioning(session: ort.InferenceSession, size: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    declared = {i.name: i.shape for i in session.get_inputs()}
    width = declared["encoder_hidden_states"][2]
    feeds = {
        "encoder_hidden_states": rng.standard_normal((2, 77, width), dtype=np.float32),
        "text_embeds": rng.standard_normal((2, declared["text_embeds"][1]), dtype=np.float32),
        "time_ids": np.array([[size, size, 0, 0, size, size]] * 2, dtype=np.float32),
        "id_tokens": np.concatenate([rng.standard_normal((2, 10, width), dtype=np.float32), np.zeros((2, 8, width), np.float32)], axis=1),
        "id_weight": np.array([0.3, 0.3], np.float32),
        "id_mode": np.array([2, 2], np.int64),  # fidelity
    }
    if "control_image" in declared:
        feeds["control_image"] = rng.random((2, 3, size, size), dtype=np.float32)
        feeds["face_tokens"] = rng.standard_normal((2, declared["face_tokens"][1], width), dtype=np.float32)
        feeds["cn_scale"] = np.array([0.8, 0.8], np.float32)
    return feeds


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b)) / max(1.0, float(np.max(np.abs(b)))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fp16", required=True, help="the fp16 denoiser graph")
    parser.add_argument("--fp32", required=True, help="the same denoiser exported in fp32")
    parser.add_argument("--provider", default="CUDAExecutionProvider")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--guidance", type=float, default=3.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    sessions = {name: ort.InferenceSession(path, providers=[args.provider]) for name, path in (("fp16", args.fp16), ("fp32", args.fp32))}
    feeds = conditioning(sessions["fp32"], args.size, args.seed)
    sigmas, timesteps = euler_sigmas(args.steps)
    latent = args.size // 8
    noise = np.random.default_rng(args.seed + 1).standard_normal((1, 4, latent, latent))
    latents = {name: noise * (sigmas[0] ** 2 + 1) ** 0.5 for name in sessions}
    times: dict[str, list[float]] = {name: [] for name in sessions}
    eps_errors = []

    def predict(name: str, x: np.ndarray, sigma: float, t: float) -> np.ndarray:
        scaled = (x / (sigma**2 + 1) ** 0.5).astype(np.float32)
        started = time.perf_counter()
        eps = sessions[name].run(None, {**feeds, "sample": np.concatenate([scaled, scaled]), "timestep": np.array([t, t], np.float32)})[0]
        times[name].append(time.perf_counter() - started)
        cond, uncond = eps[:1].astype(np.float64), eps[1:].astype(np.float64)
        return uncond + args.guidance * (cond - uncond)

    for i in range(args.steps):
        sigma, t = sigmas[i], float(timesteps[i])
        reference = predict("fp32", latents["fp32"], sigma, t)
        eps_errors.append(relative_error(predict("fp16", latents["fp32"], sigma, t), reference))  # same latents
        own = predict("fp16", latents["fp16"], sigma, t)  # fp16 on its own trajectory
        latents["fp32"] = latents["fp32"] + reference * (sigmas[i + 1] - sigma)
        latents["fp16"] = latents["fp16"] + own * (sigmas[i + 1] - sigma)
    report = {
        "provider": args.provider, "size": args.size, "steps": args.steps, "guidance": args.guidance,
        "seconds_per_step": {name: round(float(np.median(t[1:] if len(t) > 1 else t)), 4) for name, t in times.items()},
        "eps_relative_error": {"max": max(eps_errors), "median": float(np.median(eps_errors)), "per_step": eps_errors},
        "within_the_exporters_fp16_tolerance": max(eps_errors) <= HALF_TOLERANCE,
        "final_latents_relative_error": relative_error(latents["fp16"], latents["fp32"]),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
