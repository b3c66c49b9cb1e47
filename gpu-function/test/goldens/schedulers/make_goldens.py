"""Golden step vectors for the TypeScript samplers, produced by diffusers itself.

Run from the repository root with the export venv (torch + diffusers 0.42.1):

    infra/export/.venv/bin/python gpu-function/test/goldens/schedulers/make_goldens.py

For each sampler and step count it builds the diffusers scheduler exactly as the
reference run does (bundles/tiny/manifest.json "scheduler" plus the sampler's
options), draws a seeded initial noise and one seeded model output per model
evaluation, and records every scheduler call: the timestep, scale_model_input's
output, the model output, the ancestral noise (injected by replacing diffusers'
randn_tensor, so it is exact) and step's prev_sample.

Output: goldens.json (cases, layouts, alphas_cumprod, and diffusers' schedules for more step counts in the
layout of bundles/tiny/reference/schedulers.json) and one raw
little-endian float32 file per case, <sampler>-<steps>.f32, laid out as
  initial_noise | initial_sample | per evaluation: model_input, model_output, [noise,] prev_sample
"""

import json
from pathlib import Path

import numpy as np
import torch
from diffusers import EulerDiscreteScheduler
import diffusers.schedulers.scheduling_euler_ancestral_discrete as euler_ancestral_module
# The reference run's own scheduler factory and schedule tables, so the goldens use the same options.
from ecomid_export.manifest import SCHEDULER
from ecomid_export.reference.schedulers import make_scheduler, schedule_tables

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
SHAPE = (1, 4, 4, 4)
STEP_COUNTS = (4, 25)
# Extra schedule-only step counts: odd ratios (1000 / 3, 1000 / 7) probe the spacing and rounding paths.
SCHEDULE_STEP_COUNTS = (1, 2, 3, 6, 7, 8, 10, 15, 30, 50)
SAMPLERS = ("euler", "euler_ancestral", "dpmpp_2m_karras", "dpm_2_karras", "dpm_solver_trailing")


class NoiseTape:
    """Stands in for diffusers' randn_tensor: hands out the noise queued for the next ancestral step."""

    def __init__(self):
        self.queue: list[torch.Tensor] = []

    def __call__(self, shape, generator=None, device=None, dtype=None, **_):
        noise = self.queue.pop(0)
        assert tuple(noise.shape) == tuple(shape)
        return noise.to(dtype=dtype or torch.float32)


def record_case(sampler: str, steps: int, seed: int, tape: NoiseTape):
    scheduler = make_scheduler(sampler)
    scheduler.set_timesteps(steps)
    generator = torch.Generator().manual_seed(seed)
    initial_noise = torch.randn(SHAPE, generator=generator)
    sample = initial_noise * scheduler.init_noise_sigma
    chunks = [initial_noise, sample]
    timesteps = []
    ancestral = sampler == "euler_ancestral"
    for t in scheduler.timesteps:
        model_input = scheduler.scale_model_input(sample, t)
        model_output = torch.randn(SHAPE, generator=generator)
        chunks += [model_input, model_output]
        if ancestral:
            noise = torch.randn(SHAPE, generator=generator)
            tape.queue.append(noise)
            chunks.append(noise)
        sample = scheduler.step(model_output, t, sample, return_dict=False)[0]
        chunks.append(sample)
        timesteps.append(float(t))
    assert not tape.queue
    data = np.concatenate([c.detach().numpy().astype("<f4").ravel() for c in chunks])
    file = f"{sampler}-{steps}.f32"
    (HERE / file).write_bytes(data.tobytes())
    return {
        "sampler": sampler, "steps": steps, "seed": seed, "shape": list(SHAPE), "file": file,
        "evaluations": len(timesteps), "hasNoise": ancestral, "timesteps": timesteps,
        "initNoiseSigma": float(scheduler.init_noise_sigma),
    }


def main():
    manifest = json.loads((ROOT / "bundles/tiny/manifest.json").read_text())
    config = dict(manifest["scheduler"])
    assert config == SCHEDULER, "the bundle's scheduler config differs from the export package's"
    tape = NoiseTape()
    euler_ancestral_module.randn_tensor = tape
    cases = []
    for index, sampler in enumerate(SAMPLERS):
        for steps in STEP_COUNTS:
            cases.append(record_case(sampler, steps, seed=1000 * index + steps, tape=tape))
    schedules = schedule_tables(SAMPLERS, SCHEDULE_STEP_COUNTS)
    # The training noise table, to test the float32 emulation of betas and alphas_cumprod directly.
    reference = EulerDiscreteScheduler(**config)
    index = {
        "description": "diffusers " + __import__("diffusers").__version__ + " scheduler.step goldens; see make_goldens.py",
        "config": config,
        "layout": "initial_noise | initial_sample | per evaluation: model_input, model_output, [noise,] prev_sample",
        "alphasCumprod": [float(a) for a in reference.alphas_cumprod.double()],
        "cases": cases,
        "schedules": schedules,
    }
    (HERE / "goldens.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"{len(cases)} cases written to {HERE}")


if __name__ == "__main__":
    main()
