"""What each few-step base was distilled for: its scheduler config, sampler, step count, guidance and size.

Sources (each value below is taken from these, nothing tuned here):
- SDXL-Lightning, model card https://huggingface.co/ByteDance/SDXL-Lightning: distilled from SDXL base 1.0; "Please
  always use the correct checkpoint for the corresponding inference steps"; its diffusers examples keep SDXL base's
  scheduler config with EulerDiscreteScheduler and `timestep_spacing="trailing"` and call the pipeline with
  `guidance_scale=0` at 1024 px. The 1-step UNet is the exception: the card loads it with
  `prediction_type="sample"` (it predicts x0), which these epsilon samplers cannot run (refused in lightning_unet.py).
- SDXL Turbo, https://huggingface.co/stabilityai/sdxl-turbo scheduler/scheduler_config.json
  (EulerAncestralDiscreteScheduler, beta 0.00085..0.012 scaled_linear, 1000 steps, steps_offset 1, epsilon,
  timestep_spacing "trailing") and diffusers' SDXL Turbo page (docs/source/en/api/pipelines/stable_diffusion/
  sdxl_turbo.md: guidance_scale=0.0, 1 to 4 steps, trained at 512x512).

Guidance: this API's `guidance` is diffusers' guidance_scale, where 1 runs no unconditional pass (diffusers'
`do_classifier_free_guidance` is `guidance_scale > 1`); the cards' 0 and our 1 are the same computation.
"""

from ..manifest import SCHEDULER

TRAILING_SCHEDULER = {**SCHEDULER, "timestep_spacing": "trailing"}


# The samplers that walk the trailing schedule as the distillation did (Euler, with or without fresh noise); the
# Karras and DPM-Solver schedules place their steps elsewhere.
FEW_STEP_SAMPLERS = ["euler", "euler_ancestral"]


def _preset(steps: int, sampler: str, side: int, max_steps: int) -> dict:
    """`max_steps`: a distilled model is good at the step count it was distilled for (Lightning: exactly that
    one, per its card; Turbo: 1 to 4); more steps do not refine its answer."""
    return {
        "scheduler": TRAILING_SCHEDULER,
        "defaults": {"steps": steps, "guidance": 1.0, "sampler": sampler, "width": side, "height": side},
        "limits": {"max_steps": max_steps, "samplers": FEW_STEP_SAMPLERS},
    }


PRESETS = {
    "lightning-2step": _preset(2, "euler", 1024, 2),
    "lightning-4step": _preset(4, "euler", 1024, 4),
    "lightning-8step": _preset(8, "euler", 1024, 8),
    "turbo": _preset(1, "euler_ancestral", 512, 4),
}
# The scheduler class each preset's source pairs with, for the diffusers reference tables.
DIFFUSERS_SCHEDULER_CLASS = {"euler": "EulerDiscreteScheduler", "euler_ancestral": "EulerAncestralDiscreteScheduler"}
