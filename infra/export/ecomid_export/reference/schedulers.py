"""diffusers' schedulers for each API sampler, with the bundle's SDXL config."""

from diffusers import (DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler, EulerDiscreteScheduler,
                       KDPM2DiscreteScheduler)

from ..manifest import SCHEDULER


def make_scheduler(sampler: str):
    config = dict(SCHEDULER)
    if sampler == "euler":
        return EulerDiscreteScheduler(**config)
    if sampler == "euler_ancestral":
        return EulerAncestralDiscreteScheduler(**config)
    if sampler == "dpmpp_2m_karras":
        return DPMSolverMultistepScheduler(**config, algorithm_type="dpmsolver++", solver_order=2, use_karras_sigmas=True)
    if sampler == "dpm_2_karras":
        return KDPM2DiscreteScheduler(**config, use_karras_sigmas=True)
    if sampler == "dpm_solver_trailing":
        return DPMSolverMultistepScheduler(**{**config, "timestep_spacing": "trailing"}, algorithm_type="dpmsolver++",
                                           solver_order=2)
    raise ValueError(f"unknown sampler {sampler}")


def schedule_tables(samplers, step_counts) -> dict:
    """{sampler: {steps: {timesteps, sigmas, init_noise_sigma}}} as float64 JSON numbers."""
    tables = {}
    for sampler in samplers:
        tables[sampler] = {}
        for steps in step_counts:
            scheduler = make_scheduler(sampler)
            scheduler.set_timesteps(steps)
            tables[sampler][str(steps)] = {
                "timesteps": [float(t) for t in scheduler.timesteps.double()],
                "sigmas": [float(s) for s in scheduler.sigmas.double()],
                "init_noise_sigma": float(scheduler.init_noise_sigma),
            }
    return tables
