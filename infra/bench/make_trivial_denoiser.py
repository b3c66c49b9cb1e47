"""Write a trivial denoiser graph with the fused denoiser's inputs at real SDXL shapes (CFG batch 2, 1024², 128² latents).

noise_pred = sample * 1: the graph does almost nothing, so timing a denoising
step around it shows what the host side costs (building feeds, handing ~35 MB of
inputs to onnxruntime, CFG combine, the sampler step), apart from model compute.
The inputs not used are still declared, so onnxruntime-node receives and checks
every feed a real step sends.

Usage: python infra/bench/make_trivial_denoiser.py OUT.onnx
"""

import sys

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper, save

B, D = 2, 2048  # CFG rows; SDXL cross-attention width
FLOAT_INPUTS = {
    "sample": [B, 4, 128, 128],
    "timestep": [B],
    "encoder_hidden_states": [B, 77, D],
    "text_embeds": [B, 1280],
    "time_ids": [B, 6],
    "id_tokens": [B, 18, D],  # 10 PuLID ID tokens + 8 fidelity padding tokens
    "id_weight": [B],
    "control_image": [B, 3, 1024, 1024],
    "face_tokens": [B, 16, D],
    "cn_scale": [B],
}


def build():
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in FLOAT_INPUTS.items()]
    inputs.append(helper.make_tensor_value_info("id_mode", TensorProto.INT64, [B]))
    output = helper.make_tensor_value_info("noise_pred", TensorProto.FLOAT, FLOAT_INPUTS["sample"])
    one = numpy_helper.from_array(np.ones((1,), np.float32), "one")
    graph = helper.make_graph([helper.make_node("Mul", ["sample", "one"], ["noise_pred"])], "trivial_denoiser",
                              inputs, [output], initializer=[one])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="infra/bench")
    model.ir_version = 8  # readable by every onnxruntime from 1.14 on
    checker.check_model(model)
    return model


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    save(build(), sys.argv[1])
