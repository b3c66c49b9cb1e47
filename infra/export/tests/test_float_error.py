"""The rounding-error model behind every numeric bound (ecomid_export/float_error.py), on graphs whose count is
known by hand."""

import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ecomid_export import float_error
from ecomid_export.float_error import FLOAT32_UNIT_ROUNDOFF, count_roundings, relative_bound, uint8_level_bound


def _graph(nodes, inputs, weights, outputs=("y",)):
    initializers = [numpy_helper.from_array(np.ones(shape, np.float32), name) for name, shape in weights.items()]
    return helper.make_model(helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], initializers),
        opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_counts_the_path_with_the_most_roundings_at_the_run_sizes():
    # x [b, 4, 6, w] -> Conv(4 in, 3x3: 36 terms) -> Relu -> Sigmoid (16) -> MatMul(w x 8: w terms) -> Add (1) -> y;
    # a side branch x -> Sqrt (16) -> z rounds less.
    model = _graph(
        [helper.make_node("Conv", ["x", "k"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"]),
         helper.make_node("Sigmoid", ["r"], ["s"]), helper.make_node("MatMul", ["s", "m"], ["p"]),
         helper.make_node("Add", ["p", "p"], ["y"]), helper.make_node("Sqrt", ["x"], ["z"])],
        [("x", ["batch", 4, 6, "width"])], {"k": (4, 4, 3, 3), "m": (50, 8)}, outputs=("y", "z"))
    assert count_roundings(model, {"batch": 3, "width": 50}).to_json() == {"roundings": 36 + 1 + 16 + 50 + 1, "widest_sum": 50}


def test_reductions_normalisations_and_softmax_count_what_they_sum():
    model = _graph(
        [helper.make_node("Softmax", ["x"], ["s"], axis=-1),
         helper.make_node("LayerNormalization", ["s", "gamma"], ["n"], axis=-1),
         helper.make_node("ReduceMean", ["n"], ["y"], axes=[1], keepdims=0)],
        [("x", [1, "tokens", 24])], {"gamma": (24,)})
    # Softmax over 24, LayerNorm over 24, the mean over the 77 tokens.
    assert count_roundings(model, {"tokens": 77}).to_json() == {"roundings": 24 + 24 + 77, "widest_sum": 77}


def test_shapes_static_inference_cannot_fix_come_from_a_run(monkeypatch):
    # Reshape to a shape computed in the graph (Shape -> Concat), then a softmax over it; with static inference
    # knowing nothing (as it knows nothing of some exported Reshapes), the shapes of a run on zeros count.
    monkeypatch.setattr(float_error, "_inferred_shapes", lambda model, dims: {})
    model = _graph(
        [helper.make_node("Shape", ["x"], ["shape"]), helper.make_node("Concat", ["shape", "one"], ["target"], axis=0),
         helper.make_node("Reshape", ["x", "target"], ["r"]), helper.make_node("Softmax", ["r"], ["y"], axis=1)],
        [("x", ["rows", "cols"])], {})
    model.graph.initializer.append(numpy_helper.from_array(np.array([1], np.int64), "one"))
    assert count_roundings(model, {"rows": 5, "cols": 9}).roundings == 9


def test_guidance_scales_the_two_rows_errors_by_the_sum_of_their_weights():
    assert float_error.guidance_amplification(3.5) == 6.0  # -2.5 * uncond + 3.5 * cond
    assert float_error.guidance_amplification(1.0) == 1.0


def test_the_bound_is_sqrt2_lambda_sqrt_n_unit_roundoffs_times_the_amplification():
    assert relative_bound(10_000) == math.sqrt(2) * 7 * 100 * FLOAT32_UNIT_ROUNDOFF
    assert relative_bound(10_000, amplification=8) == 8 * relative_bound(10_000)
    assert 1e-5 < relative_bound(10_000) < 1e-4


def test_uint8_levels_allow_one_rounding_boundary_plus_the_distance():
    assert uint8_level_bound(1e-4, 1.0, 127.5) == 1
    assert uint8_level_bound(1e-2, 2.0, 127.5) == 3  # 2.55 levels apart, and a boundary between
