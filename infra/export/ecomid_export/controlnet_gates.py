"""Gate a fused denoiser's extra ControlNets with ONNX `If`: a ControlNet whose scale is 0 on every row is not run.

The TorchScript exporter cannot trace data-dependent branches, so the graph is exported whole and then rewritten:
the nodes of one ControlNet (all named under its module scope, `/<name>/`: the exporter names a ModuleDict entry by
its key alone; see ScaledControlNet) move
into the `then` branch of an `If` on `max |scale| > 0`; the `else` branch gives a zero of rank 4 for each residual,
which the residual sums broadcast. Weights stay initializers of the main graph (branches read outer names), so one
session holds each weight once whichever branch runs. infra/export/README.md has the measurements behind it.
"""

from collections import deque

import numpy as np
import onnx
from onnx import helper, numpy_helper

ON, OFF = "__on", "__off"


def scope_of(name: str) -> str:
    return f"/{name}/"


def _scope_in(graph: onnx.GraphProto, name: str) -> str:
    """The ControlNet's scope as exported: `/<name>/`, under a wrapper's scope when one wraps the denoiser
    (HalfPrecision's `/module/<name>/`). Found from its network's nodes (`.../<name>/net/...`)."""
    marker = f"{scope_of(name)}net/"
    for node in graph.node:
        if marker in node.name:
            return node.name[:node.name.index(marker) + len(scope_of(name))]
    raise ValueError(f"no nodes under {scope_of(name)}: is {name} in this graph?")


def gate_controlnets(model: onnx.ModelProto, gates: dict[str, str]) -> onnx.ModelProto:
    """`gates`: ControlNet name -> its scale input. Returns the rewritten model (the argument is changed too)."""
    graph = model.graph
    _share_equal_constants(graph)
    types = _elem_types(model)
    for name, scale in gates.items():
        # Constants stay in the main graph: they cost nothing, and one merged with another ControlNet's equal
        # constant (above) may be read by both.
        inside = _branch_nodes(graph, name)
        moved = {id(n) for n in inside}
        produced = {o for n in inside for o in n.output if o}
        readers = [n for n in graph.node if id(n) not in moved]
        results = [o for n in inside for o in n.output if o in {i for r in readers for i in r.input}]
        _check_only_summed(name, results, readers, graph)
        gate_nodes, condition = _condition(name, scale)
        if_node = helper.make_node("If", [condition], results, name=f"/controlnets/{name}/gate",
                                   then_branch=_then_branch(name, inside, results, types),
                                   else_branch=_else_branch(name, results, types))
        kept = [n for n in graph.node if id(n) not in moved]
        del graph.node[:]
        graph.node.extend(_topological([*kept, *gate_nodes, if_node], _outer_inputs(inside, produced)))
        stale = [v for v in graph.value_info if v.name in produced and v.name not in results]
        for v in stale:
            graph.value_info.remove(v)
    return model


def _branch_nodes(graph: onnx.GraphProto, name: str) -> list:
    """The nodes under the ControlNet's scope but for those whose outputs something else reads besides the
    residual sums (top-level Adds): the exporter shares shape arithmetic on a common input (the text embeddings'
    Shape and Gather) between the two extra ControlNets; such nodes, and what they read, stay in the main graph."""
    scope = _scope_in(graph, name)
    denoiser_scope = scope[:-len(name) - 1]  # "/" or a wrapper's "/module/"
    inside = [n for n in graph.node if n.name.startswith(scope) and n.op_type != "Constant"]
    while True:
        moved = {id(n) for n in inside}
        read_elsewhere = {i for n in graph.node
                          if id(n) not in moved and not _is_residual_sum(n, denoiser_scope) for i in n.input}
        read_elsewhere |= {o.name for o in graph.output}
        kept = [n for n in inside if not read_elsewhere.intersection(n.output)]
        if len(kept) == len(inside):
            return inside
        inside = kept


def _is_residual_sum(node, denoiser_scope: str) -> bool:
    """The Denoiser's own Adds, in its scope and in no module under it."""
    return (node.op_type == "Add" and node.name.startswith(denoiser_scope)
            and "/" not in node.name[len(denoiser_scope):])


def _check_only_summed(name: str, results: list[str], readers: list, graph: onnx.GraphProto) -> None:
    """What leaves a branch must be residuals that are only added (the else branch's broadcast zero is right for
    an Add and nothing else)."""
    wrong = sorted({f"{r} -> {n.name or n.op_type}" for n in readers for r in results if r in n.input and n.op_type != "Add"})
    wrong += [f"{o.name} (a graph output)" for o in graph.output if o.name in results]
    if wrong:
        raise ValueError(f"{name}: values of the ControlNet are used other than by the residual sum: {wrong[:5]}")


def _share_equal_constants(graph: onnx.GraphProto) -> None:
    """One name for each set of equal constants (embedded initializers, Constant nodes, Identity copies of either). onnxruntime's
    constant-sharing pass merges them at load, but cannot rename a name a branch reads and warns for each; merged
    here, it has nothing to do. Weights in external data are left alone (not read; equal ones are not expected)."""
    canonical: dict[tuple, str] = {}
    renamed: dict[str, str] = {}

    def seen(name: str, tensor: onnx.TensorProto) -> bool:
        key = (tensor.data_type, tuple(tensor.dims), numpy_helper.to_array(tensor).tobytes())
        if key in canonical:
            renamed[name] = canonical[key]
            return True
        canonical[key] = name
        return False

    initializers = [t for t in graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL or not seen(t.name, t)]
    constant = {t.name for t in graph.initializer}
    nodes = []
    for n in graph.node:
        if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
            constant.add(n.output[0])
            if seen(n.output[0], n.attribute[0].t):
                continue
        elif n.op_type == "Identity" and n.input[0] in constant:  # the exporter's copies of a weight
            renamed[n.output[0]] = renamed.get(n.input[0], n.input[0])
            constant.add(n.output[0])
            continue
        nodes.append(n)
    if not renamed:
        return
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    del graph.node[:]
    graph.node.extend(nodes)
    for node in graph.node:
        node.input[:] = [renamed.get(i, i) for i in node.input]
    for output in graph.output:
        if output.name in renamed:
            raise ValueError(f"graph output {output.name} is a constant shared with another name")


def _condition(name: str, scale: str):
    """max over rows of |scale| > 0, as a scalar bool."""
    prefix = f"/controlnets/{name}/gate_"
    zero = helper.make_node("Constant", [], [prefix + "zero"], name=prefix + "zero",
                            value=numpy_helper.from_array(np.zeros((), np.float32)))
    nodes = [
        helper.make_node("Abs", [scale], [prefix + "abs"], name=prefix + "abs"),
        helper.make_node("ReduceMax", [prefix + "abs"], [prefix + "max"], name=prefix + "max", keepdims=0),
        zero,
        helper.make_node("Greater", [prefix + "max", prefix + "zero"], [prefix + "on"], name=prefix + "on"),
    ]
    return nodes, prefix + "on"


def _then_branch(name: str, inside: list, results: list[str], types: dict[str, int]) -> onnx.GraphProto:
    """The ControlNet's own nodes; each result renamed inside the branch (a branch may not reuse an outer name)."""
    renamed = {r: r + ON for r in results}
    nodes = []
    for node in inside:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.input[:] = [renamed.get(i, i) for i in node.input]
        copy.output[:] = [renamed.get(o, o) for o in node.output]
        nodes.append(copy)
    outputs = [helper.make_tensor_value_info(renamed[r], types.get(r, onnx.TensorProto.FLOAT), None) for r in results]
    return helper.make_graph(nodes, f"{name}_on", [], outputs)


def _else_branch(name: str, results: list[str], types: dict[str, int]) -> onnx.GraphProto:
    """A zero of shape [1, 1, 1, 1] per residual: adding it broadcasts to the residual's shape and changes nothing."""
    nodes, outputs = [], []
    for r in results:
        dtype = helper.tensor_dtype_to_np_dtype(types.get(r, onnx.TensorProto.FLOAT))
        nodes.append(helper.make_node("Constant", [], [r + OFF], name=r + OFF,
                                      value=numpy_helper.from_array(np.zeros((1, 1, 1, 1), dtype))))
        outputs.append(helper.make_tensor_value_info(r + OFF, types.get(r, onnx.TensorProto.FLOAT), None))
    return helper.make_graph(nodes, f"{name}_off", [], outputs)


def _outer_inputs(inside: list, produced: set[str]) -> list[str]:
    """Values the branch reads from the main graph: the If node must come after their producers."""
    return sorted({i for n in inside for i in n.input if i and i not in produced})


def _topological(nodes: list, if_reads: list[str]) -> list:
    """Kahn's order, stable (ties keep the given order); the last node is the If, which also depends on `if_reads`."""
    producer = {o: k for k, n in enumerate(nodes) for o in n.output if o}
    reads = [list(n.input) for n in nodes]
    reads[-1] = [*reads[-1], *if_reads]
    waiting = [0] * len(nodes)
    users: dict[int, list[int]] = {}
    for k, inputs in enumerate(reads):
        for source in {producer[i] for i in inputs if i in producer}:
            waiting[k] += 1
            users.setdefault(source, []).append(k)
    ready = deque(k for k in range(len(nodes)) if waiting[k] == 0)
    order = []
    while ready:
        k = ready.popleft()
        order.append(nodes[k])
        for user in sorted(users.get(k, [])):
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    if len(order) != len(nodes):
        raise ValueError("the gated graph has a cycle")
    return order


def _elem_types(model: onnx.ModelProto) -> dict[str, int]:
    """Element type of every value, from onnx's shape inference (fp16 graphs' residuals are fp16)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    values = [*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input]
    return {v.name: v.type.tensor_type.elem_type for v in values if v.type.tensor_type.elem_type}


def inline_then_branches(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy with each `If` replaced by its `then` branch (the path with the arithmetic): what float_error counts."""
    flat = onnx.ModelProto()
    flat.CopyFrom(model)
    nodes = []
    for node in flat.graph.node:
        if node.op_type != "If":
            nodes.append(node)
            continue
        branch = next(a.g for a in node.attribute if a.name == "then_branch")
        nodes.extend(branch.node)
        nodes.extend(helper.make_node("Identity", [inner.name], [outer], name=f"{outer}_inlined")
                     for inner, outer in zip(branch.output, node.output))
    del flat.graph.node[:]
    flat.graph.node.extend(nodes)
    return flat
