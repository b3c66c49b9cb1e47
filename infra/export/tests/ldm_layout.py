"""Write diffusers-layout SDXL modules back into the single-file (LDM / sgm) layout, for testing the
single-file loading path without a real checkpoint. The inverse of diffusers' single_file_utils maps."""

import re

import torch

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
        if key.endswith(("to_k_ip.weight", "to_v_ip.weight")):
            continue
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


def open_clip_to_ldm(state: dict, prefix: str = "conditioner.embedders.1.model.") -> dict:
    out, qkv = {}, {}
    fixed = {"text_model.embeddings.position_embedding.weight": "positional_embedding",
             "text_model.embeddings.token_embedding.weight": "token_embedding.weight",
             "text_model.final_layer_norm.weight": "ln_final.weight", "text_model.final_layer_norm.bias": "ln_final.bias"}
    for key, value in state.items():
        if key in fixed:
            out[fixed[key]] = value
        elif key == "text_projection.weight":
            out["text_projection"] = value.T.contiguous()
        elif m := re.match(r"text_model\.encoder\.layers\.(\d+)\.self_attn\.([qkv])_proj\.(weight|bias)", key):
            qkv.setdefault((m[1], m[3]), {})[m[2]] = value
        elif m := re.match(r"text_model\.encoder\.layers\.(\d+)\.(.*)", key):
            rest = (m[2].replace("layer_norm1", "ln_1").replace("layer_norm2", "ln_2").replace("mlp.fc1", "mlp.c_fc")
                    .replace("mlp.fc2", "mlp.c_proj").replace("self_attn.out_proj", "attn.out_proj"))
            out[f"transformer.resblocks.{m[1]}.{rest}"] = value
        elif key != "text_model.embeddings.position_ids":
            raise KeyError(key)
    for (layer, kind), parts in qkv.items():
        out[f"transformer.resblocks.{layer}.attn.in_proj_{kind}"] = torch.cat([parts["q"], parts["k"], parts["v"]])
    return {prefix + k: v for k, v in out.items()}


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
