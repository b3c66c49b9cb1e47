"""EcomID's IdentityNet is assumed to follow InstantID's ControlNet config (EcomID publishes none).

A ControlNet folder's config.json is checked field by field against it, and a file of another kind of
ControlNet is named for what it is, before strict loading names single tensors.
"""

import json
from pathlib import Path

from ..strict_load import WeightMismatchError

USE_INSTEAD = "Pass EcomID's IdentityNet: alimama-creative/SDXL-EcomID diffusion_pytorch_model.safetensors"
# The config fields that decide the architecture (InstantX/InstantID ControlNetModel/config.json has these and
# bookkeeping such as _diffusers_version).
ARCHITECTURE_FIELDS = (
    "in_channels", "conditioning_channels", "conditioning_embedding_out_channels", "block_out_channels",
    "down_block_types", "layers_per_block", "transformer_layers_per_block", "attention_head_dim",
    "num_attention_heads", "cross_attention_dim", "use_linear_projection", "addition_embed_type",
    "addition_time_embed_dim", "projection_class_embeddings_input_dim", "norm_num_groups",
    "controlnet_conditioning_channel_order", "global_pool_conditions", "upcast_attention", "only_cross_attention",
    "class_embed_type", "encoder_hid_dim", "encoder_hid_dim_type", "resnet_time_scale_shift",
)


def _same(a, b) -> bool:
    if (a is None or a is False) and (b is None or b is False):  # diffusers reads null and false alike here
        return True
    return list(a) == list(b) if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) else a == b


def check_identitynet_config(folder: Path, expected, role: str = "IdentityNet", use_instead: str = USE_INSTEAD,
                             reference: str = "InstantID's ControlNet config, which EcomID's IdentityNet follows",
                             label: str = "InstantID") -> None:
    """`expected`: the built ControlNet's config (InstantID's layout at the bundle's widths). `role`, `use_instead`,
    `reference`: the refusal's words for another ControlNet read against the same SDXL ControlNet config."""
    config_file = folder / "config.json"
    if not config_file.is_file():
        return  # EcomID's own upload is the weights alone
    config = json.loads(config_file.read_text())
    shown = lambda v: list(v) if isinstance(v, tuple) else v  # noqa: E731 - JSON's lists, not the config's tuples
    differences = [f"{name} {config[name]!r} ({label}: {shown(expected[name])!r})" for name in ARCHITECTURE_FIELDS
                   if name in config and name in expected and not _same(config[name], expected[name])]
    if config.get("_class_name", "ControlNetModel") != "ControlNetModel":
        differences.insert(0, f"_class_name {config['_class_name']!r} ({label}: 'ControlNetModel')")
    if differences:
        raise WeightMismatchError(
            f"{role} {folder.name}/config.json differs from {reference}: {'; '.join(differences)}. {use_instead} "
            f"(an SDXL ControlNet with InstantID's layout)")


def refuse_foreign_controlnet(path: Path, tensors: dict, role: str = "IdentityNet", use_instead: str = USE_INSTEAD) -> None:
    if any(k.startswith("control_model.") for k in tensors):
        raise WeightMismatchError(f"{role} {path.name} is a ControlNet in the original ControlNet (lllyasviel) "
                                  f"layout, control_model.*, as published for Stable Diffusion 1.5, not {role}. {use_instead}.")
    if any(k.startswith("controlnet_cond_embedding.") for k in tensors) and "add_embedding.linear_1.weight" not in tensors:
        raise WeightMismatchError(f"{role} {path.name} is a ControlNet for Stable Diffusion 1.x/2.x (no SDXL "
                                  f"add_embedding), not {role}. {use_instead}.")
    if not any(k.startswith("controlnet_cond_embedding.") for k in tensors):
        raise WeightMismatchError(f"{role} {path.name} is not a ControlNet (no controlnet_cond_embedding.* "
                                  f"tensors). {use_instead}.")
