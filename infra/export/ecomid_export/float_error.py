"""How far two float32 evaluations of one graph may drift apart: the bound every numeric comparison here uses.

Two implementations of one graph (onnxruntime vs PyTorch, or one library on AVX2 vs AVX-512 kernels) differ
only in the order they sum and in their exp/erf/sqrt kernels. Each rounding is at most u = 2^-24 relative
(float32). Taken as independent zero-mean errors (Higham & Mary, "A New Approach to Probabilistic Rounding
Error Analysis", SIAM J. Sci. Comput. 41(5), 2019, Theorem 2.4), the n roundings on an output's path leave at
most LAMBDA * sqrt(n) * u of the magnitudes involved, except with probability 2 * exp(-LAMBDA^2 / 2) per value;
two independent evaluations differ by sqrt(2) times that.

n is counted from the graph at the sizes of the run being bounded: along the path from an input to an output
with the most roundings, each operator adds the length of the sums it makes (a convolution's fan-in, a matrix
product's inner size, a normalisation's group, a softmax's row), APPROXIMATION_ROUNDINGS for an exp, erf,
sqrt or sigmoid kernel (within 4 ulp: 16 roundings' worth of variance), and 1 for other arithmetic.

Assumed, and the only assumption: the computation does not amplify relative error (normalisation keeps
activations O(1)); where a caller knows it does (classifier-free guidance), it passes the factor as
`amplification`.
"""

import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import onnx
from onnx import numpy_helper
from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

FLOAT32_UNIT_ROUNDOFF = 2.0 ** -24
# 2 * exp(-LAMBDA^2 / 2) = 4.6e-11 per value: below 1e-4 for every reference tensor of a bundle together.
LAMBDA = 7.0
APPROXIMATION_ROUNDINGS = 16

APPROXIMATED = {"Exp", "Log", "Erf", "Tanh", "Sigmoid", "Sqrt", "Pow", "Reciprocal", "Sin", "Cos", "Softplus",
                "Gelu", "HardSigmoid"}
ROUNDED_ONCE = {"Add", "Sub", "Mul", "Div", "Neg", "Sum", "Mean", "Resize", "Upsample", "BatchNormalization",
                "Einsum", "Clip", "Relu", "LeakyRelu", "PRelu", "Max", "Min", "Where", "Cast", "Floor", "Ceil", "Round"}


@dataclass(frozen=True)
class RoundingCount:
    roundings: int
    widest_sum: int

    def to_json(self) -> dict:
        return {"roundings": self.roundings, "widest_sum": self.widest_sum}


def count_roundings(model: onnx.ModelProto, dims: Mapping[str, int], folder: Path | None = None) -> RoundingCount:
    """The most roundings on any input-to-output path of `model` run with its symbolic axes at `dims`
    (names as the graph declares them; the batch never enters a sum). `folder`: where the model's external
    data lies, if it has any. A gated graph (ONNX If) counts the path through each `then` branch, which holds the
    arithmetic (the `else` branches give zeros)."""
    from .controlnet_gates import inline_then_branches  # noqa: PLC0415 - it imports nothing from here

    model = inline_then_branches(model)
    try:
        return _count(model, _inferred_shapes(model, dims))
    except UnknownSize:  # some Reshape defeats static inference: take the shapes of a run on zeros
        return _count(model, _run_shapes(model, dims, folder))


class UnknownSize(ValueError):
    pass


def _count(model: onnx.ModelProto, shapes: dict[str, list]) -> RoundingCount:
    shapes.update({t.name: list(t.dims) for t in model.graph.initializer})
    constants = _small_integer_constants(model)
    on_path: dict[str, int] = {}
    widest = 1
    for node in model.graph.node:  # ONNX keeps nodes in topological order
        try:
            sums = _sum_length(node, shapes, constants)
        except (IndexError, TypeError) as unknown:  # a shape inference left without rank or size
            raise UnknownSize(node.name) from unknown
        widest = max(widest, sums)
        added = sums or (APPROXIMATION_ROUNDINGS if node.op_type in APPROXIMATED else
                         1 if node.op_type in ROUNDED_ONCE else 0)
        total = max((on_path.get(i, 0) for i in node.input if i), default=0) + added
        for out in node.output:
            on_path[out] = total
    return RoundingCount(max(on_path.get(o.name, 0) for o in model.graph.output), widest)


def relative_bound(roundings: int, amplification: float = 1.0, unit_roundoff: float = FLOAT32_UNIT_ROUNDOFF) -> float:
    """Largest max|a - b| / max(1, max|b|) two evaluations of `roundings` roundings may show (module doc)."""
    return math.sqrt(2.0) * LAMBDA * math.sqrt(roundings) * unit_roundoff * amplification


def guidance_amplification(guidance: float) -> float:
    """uncond + g * (cond - uncond) = (1 - g) * uncond + g * cond: errors of the two rows scale by |1 - g| + |g|."""
    return abs(1.0 - guidance) + abs(guidance)


def uint8_level_bound(relative: float, scale: float, levels_per_unit: float) -> int:
    """Two floats within `relative * scale` of each other, mapped to levels (x * levels_per_unit) and rounded,
    differ by at most 1 + floor(that distance in levels): a rounding boundary may fall between them."""
    return 1 + math.floor(relative * scale * levels_per_unit)


def _with_dims(model: onnx.ModelProto, dims: Mapping[str, int]) -> onnx.ModelProto:
    concrete = onnx.ModelProto()
    concrete.CopyFrom(model)
    for value in concrete.graph.input:
        for d in value.type.tensor_type.shape.dim:
            if d.HasField("dim_param"):
                d.dim_value = dims.get(d.dim_param, 1)
    return concrete


def _inferred_shapes(model: onnx.ModelProto, dims: Mapping[str, int]) -> dict[str, list[int | None]]:
    concrete = _with_dims(model, dims)
    try:  # onnxruntime's inference follows shapes computed in the graph (attention reshapes) ...
        inferred = SymbolicShapeInference.infer_shapes(concrete, auto_merge=True)
    except Exception:  # noqa: BLE001 - ... but gives up on some Reshapes that onnx's own fixes
        inferred = onnx.shape_inference.infer_shapes(concrete, data_prop=True)
    values = [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]
    return {v.name: [d.dim_value if d.HasField("dim_value") else None for d in v.type.tensor_type.shape.dim]
            for v in values}


def _run_shapes(model: onnx.ModelProto, dims: Mapping[str, int], folder: Path | None) -> dict[str, list[int]]:
    """Every value's shape from onnxruntime running the graph on zeros (any value gives the shapes)."""
    import numpy as np  # noqa: PLC0415 - only this fallback needs them
    import onnxruntime as ort  # noqa: PLC0415

    concrete = _with_dims(model, dims)
    names = [o for n in concrete.graph.node for o in n.output if o]
    known = {o.name for o in concrete.graph.output}
    concrete.graph.output.extend(onnx.helper.make_empty_tensor_value_info(n) for n in names if n not in known)
    if folder is None:
        session = ort.InferenceSession(concrete.SerializeToString(), providers=["CPUExecutionProvider"])
    else:  # beside the original, so its external data is found (and mapped, not copied)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".onnx") as copy:
            onnx.save_model(concrete, copy.name)
            session = ort.InferenceSession(copy.name, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.zeros([d.dim_value for d in i.type.tensor_type.shape.dim],
                              onnx.helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type))
             for i in concrete.graph.input if i.name not in {t.name for t in concrete.graph.initializer}}
    outputs = session.run(None, feeds)
    return {o.name: list(v.shape) for o, v in zip(session.get_outputs(), outputs)}


def _attribute(node, name: str, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _small_integer_constants(model: onnx.ModelProto) -> dict[str, list[int]]:
    """Initializers and Constant outputs that are short integer lists (reduction axes)."""
    tensors = [(t.name, t) for t in model.graph.initializer]
    tensors += [(n.output[0], a.t) for n in model.graph.node if n.op_type == "Constant" for a in n.attribute if a.name == "value"]
    return {name: numpy_helper.to_array(t).reshape(-1).tolist() for name, t in tensors
            if t.data_type in (onnx.TensorProto.INT64, onnx.TensorProto.INT32) and math.prod(t.dims) <= 8}


def _sum_length(node, shapes: dict[str, list], constants: dict[str, list[int]]) -> int:
    """How many terms each output value of `node` sums (0: it sums nothing)."""
    op, first = node.op_type, shapes.get(node.input[0]) if node.input else None
    second = shapes.get(node.input[1]) if len(node.input) > 1 else None
    if op == "Conv":
        return math.prod(second[1:])
    if op == "ConvTranspose":
        return second[0] // _attribute(node, "group", 1) * math.prod(second[2:])
    if op == "MatMul":
        return _known(second[-2] if second and len(second) > 1 else None, first[-1] if first else None)
    if op == "Gemm":
        inner = first[-2] if _attribute(node, "transA", 0) else first[-1]
        return _known(inner, second[-1] if _attribute(node, "transB", 0) else second[0])
    if op in ("Softmax", "LogSoftmax"):
        return _known(first[_attribute(node, "axis", -1)] if first else None)
    if op == "LayerNormalization":
        return _known(math.prod(first[_attribute(node, "axis", -1):]) if all(first[_attribute(node, "axis", -1):]) else None)
    if op in ("GroupNormalization", "InstanceNormalization"):
        groups = _attribute(node, "num_groups", first[1]) if op == "GroupNormalization" else first[1]
        return _known(first[1] // groups * math.prod(first[2:]) if all(first[1:]) else None)
    if op.startswith("Reduce") and op not in ("ReduceMax", "ReduceMin"):
        axes = constants.get(node.input[1]) if len(node.input) > 1 and node.input[1] else _attribute(node, "axes", None)
        if axes is None and len(node.input) > 1 and node.input[1]:
            raise UnknownSize(f"{node.name}: reduction axes computed in the graph")
        axes = range(len(first)) if axes is None else axes
        return _known(math.prod(first[a] for a in axes) if first and all(first[a] for a in axes) else None)
    return 0


def _known(*candidates) -> int:
    for c in candidates:
        if isinstance(c, int) and c > 0:
            return c
    raise UnknownSize("a summed size the shape inference could not fix")
