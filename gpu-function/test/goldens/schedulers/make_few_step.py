"""diffusers' schedules and scheduler.step outputs under the few-step bases' trailing configs, for the TypeScript
samplers (few-step.json beside this file; the tiny bundle's leading config is make_goldens.py's).

Run from the repository root with the export venv (torch + diffusers 0.42.1):

    PYTHONPATH=infra/export infra/export/.venv/bin/python gpu-function/test/goldens/schedulers/make_few_step.py

For each preset of ecomid_export.real.few_step_presets (Lightning: EulerDiscreteScheduler, Turbo:
EulerAncestralDiscreteScheduler, both trailing; sources cited there) and each sampler the preset allows, at 1, 2, 4
and 8 steps: diffusers' timesteps, sigmas and init_noise_sigma, and one run of scale_model_input and step on seeded
float32 tensors, with the ancestral noise injected in place of diffusers' randn_tensor so that it is exact.
"""

import json
from pathlib import Path

import diffusers
import diffusers.schedulers.scheduling_euler_ancestral_discrete as euler_ancestral_module
import torch
from diffusers import EulerAncestralDiscreteScheduler, EulerDiscreteScheduler
from ecomid_export.real.few_step_presets import PRESETS

HERE = Path(__file__).resolve().parent
SHAPE = (1, 4, 2, 2)
STEP_COUNTS = (1, 2, 4, 8)
SCHEDULER_CLASSES = {"euler": EulerDiscreteScheduler, "euler_ancestral": EulerAncestralDiscreteScheduler}


class NoiseTape:
    """Stands in for diffusers' randn_tensor: hands out the noise queued for the next ancestral step."""

    def __init__(self):
        self.queue: list[torch.Tensor] = []

    def __call__(self, shape, generator=None, device=None, dtype=None, **_):
        noise = self.queue.pop(0)
        assert tuple(noise.shape) == tuple(shape)
        return noise.to(dtype=dtype or torch.float32)


def floats(tensor: torch.Tensor) -> list[float]:
    return [float(v) for v in tensor.detach().double().ravel()]


def record(config: dict, sampler: str, steps: int, seed: int, tape: NoiseTape) -> dict:
    scheduler = SCHEDULER_CLASSES[sampler](**config)
    scheduler.set_timesteps(steps)
    generator = torch.Generator().manual_seed(seed)
    initial_noise = torch.randn(SHAPE, generator=generator)
    sample = initial_noise * scheduler.init_noise_sigma
    evaluations = []
    for t in scheduler.timesteps:
        model_input = scheduler.scale_model_input(sample, t)
        model_output = torch.randn(SHAPE, generator=generator)
        noise = torch.randn(SHAPE, generator=generator) if sampler == "euler_ancestral" else None
        if noise is not None:
            tape.queue.append(noise)
        sample = scheduler.step(model_output, t, sample, return_dict=False)[0]
        evaluations.append({"model_input": floats(model_input), "model_output": floats(model_output),
                            "noise": floats(noise) if noise is not None else None, "prev_sample": floats(sample)})
    assert not tape.queue
    return {
        "timesteps": floats(scheduler.timesteps), "sigmas": floats(scheduler.sigmas),
        "init_noise_sigma": float(scheduler.init_noise_sigma), "initial_noise": floats(initial_noise),
        "initial_sample": floats(initial_noise * scheduler.init_noise_sigma), "evaluations": evaluations,
    }


def main():
    tape = NoiseTape()
    euler_ancestral_module.randn_tensor = tape
    configs = {json.dumps(p["scheduler"], sort_keys=True) for p in PRESETS.values()}
    # Every preset shares one config today (SDXL base's betas, trailing spacing); one table set then covers them all.
    assert len(configs) == 1, "presets with different scheduler configs: record each config's runs separately"
    config = next(iter(PRESETS.values()))["scheduler"]
    samplers = sorted({s for p in PRESETS.values() for s in p["limits"]["samplers"]})
    runs = {sampler: {str(steps): record(config, sampler, steps, 100 * k + steps, tape) for steps in STEP_COUNTS}
            for k, sampler in enumerate(samplers)}
    out = {"description": f"diffusers {diffusers.__version__} schedules and step outputs under the few-step bases' "
                          "trailing config; see make_few_step.py",
           "config": config, "presets": {name: p["scheduler"] for name, p in PRESETS.items()}, "shape": list(SHAPE),
           "runs": runs}
    (HERE / "few-step.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(samplers)} samplers x {len(STEP_COUNTS)} step counts written to {HERE / 'few-step.json'}")


if __name__ == "__main__":
    main()
