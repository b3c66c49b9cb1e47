"""The two published layouts of PuLID v1 for SDXL, and the PuLID files EcomID cannot use.

- ComfyUI (`ip-adapter_pulid_sdxl_fp16.safetensors`, what EcomID's node loads): `image_proj.*` (the IDEncoder)
  and `ip_adapter.N.to_k_ip.weight` / `.to_v_ip.weight` (cubiq/PuLID_ComfyUI pulid.py, To_KV).
- PuLID's original `pulid_v1.bin` (guozinan/PuLID): `id_adapter.*` and `id_adapter_attn_layers.N.id_to_k.weight` /
  `.id_to_v.weight`, N the position in the UNet's attention-processor list (ToTheBeginning/PuLID
  pulid/pipeline.py hack_unet_attn_layers and load_pretrain; pulid/attention_processor.py IDAttnProcessor).
Both number layers by the same processor order, so the original is accepted by renaming.
"""

import re
from pathlib import Path

from ..strict_load import WeightMismatchError, take_prefix
from .weights import read_tensors

USE_INSTEAD = ("EcomID uses PuLID v1 for SDXL: ip-adapter_pulid_sdxl_fp16.safetensors (huchenlei/ipadapter_pulid, as "
               "PuLID_ComfyUI and EcomID's node load it) or PuLID's original guozinan/PuLID pulid_v1.bin")
ORIGINAL_ATTENTION = re.compile(r"id_adapter_attn_layers\.(\d+)\.id_to_([kv])\.weight")


def rename_original(tensors: dict) -> dict:
    """pulid_v1.bin's names -> the ComfyUI file's names."""
    renamed = {}
    for key, value in tensors.items():
        if m := ORIGINAL_ATTENTION.fullmatch(key):
            renamed[f"ip_adapter.{m[1]}.to_{m[2]}_ip.weight"] = value
        elif key.startswith("id_adapter."):
            renamed["image_proj." + key.removeprefix("id_adapter.")] = value
        else:
            renamed[key] = value
    return renamed


def refuse_other_pulid(path: Path, tensors: dict) -> None:
    if any(k.startswith(("pulid_ca.", "pulid_encoder.")) for k in tensors):
        raise WeightMismatchError(f"PuLID {path.name} is PuLID-FLUX (pulid_encoder / pulid_ca tensors), for FLUX.1, "
                                  f"not SDXL. {USE_INSTEAD}.")
    encoder_keys = [k for k in tensors if k.startswith(("image_proj.", "id_adapter."))]
    if any(k.split(".", 1)[1].startswith(("latents", "id_embedding_mapping", "layers.", "proj_out")) for k in encoder_keys):
        raise WeightMismatchError(f"PuLID {path.name} is PuLID v1.1 (its ID encoder is the IDFormer perceiver, with "
                                  f"latents and layers); EcomID uses the v1 MLP IDEncoder. {USE_INSTEAD}.")


def pulid_sections(path: Path) -> tuple[dict, dict]:
    """(IDEncoder tensors, ID attention tensors keyed `N.to_{k,v}_ip.weight`) from either v1 layout."""
    tensors = read_tensors(path)
    refuse_other_pulid(path, tensors)
    tensors = rename_original(tensors)
    others = sorted(k for k in tensors if not k.startswith(("image_proj.", "ip_adapter.")))
    if others:
        raise WeightMismatchError(f"PuLID {path.name}: unexpected tensors outside image_proj/ip_adapter (or the "
                                  f"original id_adapter/id_adapter_attn_layers): {others[:12]}. {USE_INSTEAD}.")
    return take_prefix(tensors, "image_proj."), take_prefix(tensors, "ip_adapter.")
