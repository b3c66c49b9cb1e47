"""Diffusers-layout UNet and VAE tensors renamed into the single-file SGM/LDM layout of SDXL base 1.0.

Layout source: Stability-AI/generative-models, sgm/modules/diffusionmodules/openaimodel.py (UNetModel:
input_blocks / middle_block / output_blocks, ResBlock in_layers / emb_layers / out_layers / skip_connection,
time_embed, label_emb) and sgm/modules/diffusionmodules/model.py (Encoder / Decoder: down.N.block, up.N.upsample,
mid.attn_1 with 1x1-convolution q/k/v/proj_out); the same correspondence diffusers'
scripts/convert_diffusers_to_original_sdxl.py writes. Our own renaming, checked by loading the result through
diffusers' single_file_utils (the opposite direction).
"""

import re


RESNET = [("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("norm2", "out_layers.0"), ("conv2", "out_layers.3"),
          ("time_emb_proj", "emb_layers.1"), ("conv_shortcut", "skip_connection")]
UNET_FIXED = {"time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
              "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2",
              "add_embedding.linear_1": "label_emb.0.0", "add_embedding.linear_2": "label_emb.0.2"}


def _resnet(rest: str) -> str:
    for new, old in RESNET:
        rest = rest.replace(new, old)
    return rest


def unet_to_ldm(state: dict, layers_per_block: int, up_has_attention: list[bool]) -> dict:
    per = layers_per_block + 1
    out = {}
    for key, value in state.items():
        head, _, tail = key.rpartition(".")
        if head in UNET_FIXED:
            out[f"{UNET_FIXED[head]}.{tail}"] = value
            continue
        if m := re.match(r"down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.*)", key):
            b, kind, i, rest = int(m[1]), m[2], int(m[3]), m[4]
            index = 1 + b * per + i
            out[f"input_blocks.{index}.0.{_resnet(rest)}" if kind == "resnets" else f"input_blocks.{index}.1.{rest}"] = value
        elif m := re.match(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.*)", key):
            out[f"input_blocks.{(int(m[1]) + 1) * per}.0.op.{m[2]}"] = value
        elif m := re.match(r"mid_block\.resnets\.(\d+)\.(.*)", key):
            out[f"middle_block.{2 * int(m[1])}.{_resnet(m[2])}"] = value
        elif m := re.match(r"mid_block\.attentions\.0\.(.*)", key):
            out[f"middle_block.1.{m[1]}"] = value
        elif m := re.match(r"up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.*)", key):
            b, kind, i, rest = int(m[1]), m[2], int(m[3]), m[4]
            index = b * per + i
            out[f"output_blocks.{index}.0.{_resnet(rest)}" if kind == "resnets" else f"output_blocks.{index}.1.{rest}"] = value
        elif m := re.match(r"up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.*)", key):
            b = int(m[1])
            out[f"output_blocks.{b * per + layers_per_block}.{2 if up_has_attention[b] else 1}.conv.{m[2]}"] = value
        else:
            raise KeyError(key)
    return {f"model.diffusion_model.{k}": v for k, v in out.items()}


def vae_to_ldm(state: dict, blocks: int) -> dict:
    out = {}
    attention = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}
    for key, value in state.items():
        key2 = key
        if m := re.match(r"encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.*)", key):
            key2 = f"encoder.down.{m[1]}.block.{m[2]}.{m[3].replace('conv_shortcut', 'nin_shortcut')}"
        elif m := re.match(r"encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.*)", key):
            key2 = f"encoder.down.{m[1]}.downsample.conv.{m[2]}"
        elif m := re.match(r"decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.*)", key):
            key2 = f"decoder.up.{blocks - 1 - int(m[1])}.block.{m[2]}.{m[3].replace('conv_shortcut', 'nin_shortcut')}"
        elif m := re.match(r"decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.*)", key):
            key2 = f"decoder.up.{blocks - 1 - int(m[1])}.upsample.conv.{m[2]}"
        elif m := re.match(r"(encoder|decoder)\.mid_block\.resnets\.(\d+)\.(.*)", key):
            key2 = f"{m[1]}.mid.block_{int(m[2]) + 1}.{m[3]}"
        elif m := re.match(r"(encoder|decoder)\.mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)\.(.*)", key):
            key2 = f"{m[1]}.mid.attn_1.{attention[m[2]]}.{m[3]}"
            if value.ndim == 2:
                value = value[:, :, None, None]  # 1x1 convs in the LDM layout
        elif m := re.match(r"(encoder|decoder)\.conv_norm_out\.(.*)", key):
            key2 = f"{m[1]}.norm_out.{m[2]}"
        out[f"first_stage_model.{key2}"] = value
    return out
