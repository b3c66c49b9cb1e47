"""Export a torch module to ONNX, then check onnxruntime against torch on fresh random inputs."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from .controlnet_gates import gate_controlnets
from .float_error import count_roundings, relative_bound
from .graph_spec import GraphSpec

OPSET = 17

InputMaker = Callable[[dict[str, int], int], dict[str, torch.Tensor]]


class VerificationError(RuntimeError):
    pass


def export_graph(module: torch.nn.Module, spec: GraphSpec, make_inputs: InputMaker, out_dir: Path) -> Path:
    """Write `spec.file` under `out_dir`; returns its path."""
    path = out_dir / spec.file
    path.parent.mkdir(parents=True, exist_ok=True)
    if spec.external_data:
        export_with_streamed_weights(module, spec, make_inputs, path)
    else:
        _export(module, spec, make_inputs, path)
    if spec.gates:
        onnx.save_model(gate_controlnets(onnx.load(str(path), load_external_data=False), spec.gates), str(path))
    _check_declared_io(path, spec)
    return path


# Offsets of weights in the .data file: onnxruntime maps the file and reads a tensor in place when aligned.
EXTERNAL_DATA_ALIGNMENT = 4096


def export_with_streamed_weights(module: torch.nn.Module, spec: GraphSpec, make_inputs: InputMaker, path: Path) -> None:
    """Graphs of gigabytes: the exporter traces the graph without its weights (they become inputs named as in
    the module's state dict), then each weight is written straight from the module into `<file>.data`, one
    tensor at a time. The exporter's own way holds every weight again (and again when folding constants:
    3x a 1.4 GB fp16 CLIP-G measured here), which a 16 GB denoiser cannot afford. The one fold that matters is
    done here while streaming: a Linear's weight reaches its MatMul through a Transpose, which onnxruntime
    would otherwise fold at load into a transposed copy of every weight (the fp16 denoiser's session then
    outgrew 24 GiB here)."""
    _export(module, spec, make_inputs, path, with_weights=False)
    model = onnx.load(str(path))
    declared = {t.name for t in spec.inputs}
    weights = module.state_dict(keep_vars=False)
    unknown = [v.name for v in model.graph.input if v.name not in declared and v.name not in weights]
    if unknown:
        raise VerificationError(f"{spec.name}: exported inputs {unknown[:3]} are neither declared nor weights")
    folded = {}  # a Transpose's output -> (the weight, its permutation)
    for node in list(model.graph.node):
        if node.op_type == "Transpose" and node.input[0] in weights and node.input[0] not in declared:
            perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
            folded[node.output[0]] = (node.input[0], perm)
            model.graph.node.remove(node)
    used = {name for node in model.graph.node for name in node.input}
    tensors = {name: weights[name] for name in (v.name for v in model.graph.input) if name not in declared and name in used}
    tensors.update({out: weights[name].permute(*(perm or reversed(range(weights[name].ndim)))) for out, (name, perm) in folded.items()})
    _stream_initializers(model, tensors, path.name + ".data", path.parent)
    kept_inputs = [v for v in model.graph.input if v.name in declared]
    del model.graph.input[:]
    model.graph.input.extend(kept_inputs)
    onnx.save_model(model, str(path))


def _stream_initializers(model: onnx.ModelProto, tensors: dict[str, torch.Tensor], data_file: str, folder: Path) -> None:
    offset = 0
    with (folder / data_file).open("wb") as data:
        for name, value in tensors.items():
            array = value.detach().contiguous().numpy()
            padding = -offset % EXTERNAL_DATA_ALIGNMENT
            data.write(b"\0" * padding)
            offset += padding
            data.write(array.tobytes())
            tensor = onnx.TensorProto(name=name, dims=array.shape, data_type=onnx.helper.np_dtype_to_tensor_dtype(array.dtype),
                                      data_location=onnx.TensorProto.EXTERNAL)
            for key, entry in (("location", data_file), ("offset", str(offset)), ("length", str(array.nbytes))):
                tensor.external_data.add(key=key, value=entry)
            model.graph.initializer.append(tensor)
            offset += array.nbytes
    (folder / data_file).chmod(0o644)  # the server may run as another user


def _export(module: torch.nn.Module, spec: GraphSpec, make_inputs: InputMaker, path: Path, with_weights: bool = True) -> None:
    inputs = make_inputs(spec.example_dims, 0)
    module.eval()
    with torch.no_grad():
        torch.onnx.export(
            module,
            tuple(inputs[t.name] for t in spec.inputs),
            str(path),
            input_names=[t.name for t in spec.inputs],
            output_names=[t.name for t in spec.outputs],
            dynamic_axes=spec.dynamic_axes(),
            opset_version=OPSET,
            dynamo=False,
            export_params=with_weights,
            do_constant_folding=with_weights,
        )


def external_data_files(path: Path) -> list[str]:
    return [p.name for p in sorted(path.parent.glob(path.name + ".data"))]


_ONNX_DTYPES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.FLOAT16: "float16",
                onnx.TensorProto.INT64: "int64", onnx.TensorProto.UINT8: "uint8"}


def _check_declared_io(path: Path, spec: GraphSpec) -> None:
    """The exported graph's names, dtypes and ranks must be what the manifest will claim; a size the graph
    fixes must be declared with that value (a declared fixed size the exporter left symbolic is fine)."""
    graph = onnx.load(str(path), load_external_data=False).graph
    for kind, actual, declared in (("input", graph.input, spec.inputs), ("output", graph.output, spec.outputs)):
        got = [(v.name, _ONNX_DTYPES.get(v.type.tensor_type.elem_type), [_dim(d) for d in v.type.tensor_type.shape.dim])
               for v in actual]
        want = [(t.name, t.dtype, list(t.shape)) for t in declared]
        consistent = len(got) == len(want) and all(
            g[:2] == w[:2] and len(g[2]) == len(w[2]) and all(a is None or a == b for a, b in zip(g[2], w[2]))
            for g, w in zip(got, want))
        if not consistent:
            raise VerificationError(f"{spec.name}: exported {kind}s {got} differ from the declared {want}")


def _dim(d):
    """A fixed size, or None for a symbolic one (any name: the exporter's own names are not ours)."""
    return d.dim_value if d.HasField("dim_value") else None


def verify_graph(module: torch.nn.Module, spec: GraphSpec, make_inputs: InputMaker, out_dir: Path, seed: int = 1) -> float:
    """Run the ONNX file and the module on the same random inputs; return the largest error relative to
    max(1, the outputs' magnitude). Raises VerificationError above the graph's bound."""
    expected = torch_outputs(module, spec, make_inputs, seed, verification_bound(spec, out_dir))
    return compare_with_onnxruntime(expected, spec, make_inputs, out_dir, seed)


def torch_outputs(module: torch.nn.Module, spec: GraphSpec, make_inputs: InputMaker, seed: int = 1,
                  relative_error: float | None = None) -> list[np.ndarray]:
    """The module's outputs on the verification inputs, so the module can be freed before onnxruntime loads the file.
    A module with a discrete step (id_prep's argmax) marks the outputs a flip there may change
    (`undecided_outputs`): those values are NaN here, and compared by no one."""
    inputs = make_inputs(spec.verify_dims or spec.example_dims, seed)
    args = [inputs[t.name] for t in spec.inputs]
    with torch.no_grad():
        expected = module(*args)
        expected = list(expected) if isinstance(expected, (tuple, list)) else [expected]
        if relative_error is not None and hasattr(module, "undecided_outputs"):
            undecided = module.undecided_outputs(*args, relative_error)
            expected[0] = expected[0].masked_fill(undecided, float("nan"))
            print(f"  verify {spec.name:<20} {float(undecided.float().mean()):.2%} of its outputs within reach of a "
                  f"pixel whose parsing may flip: not compared")
    return [e.float().numpy() if e.dtype != torch.uint8 else e.numpy() for e in expected]


def compare_with_onnxruntime(expected: list[np.ndarray], spec: GraphSpec, make_inputs: InputMaker, out_dir: Path,
                             seed: int = 1) -> float:
    inputs = make_inputs(spec.verify_dims or spec.example_dims, seed)
    session = ort.InferenceSession(str(out_dir / spec.file), verification_options(spec), providers=["CPUExecutionProvider"])
    got = session.run(None, {t.name: inputs[t.name].numpy() for t in spec.inputs})
    del session
    worst, scale = 0.0, 1.0
    for t, e, g in zip(spec.outputs, expected, got):
        if e.shape != g.shape:
            raise VerificationError(f"{spec.name}.{t.name}: onnxruntime shape {g.shape}, torch {e.shape}")
        compared = ~np.isnan(e)
        if compared.any():
            worst = max(worst, float(np.max(np.abs(e[compared].astype(np.float64) - g[compared].astype(np.float64)))))
            scale = max(scale, float(np.max(np.abs(e[compared]))))
    # The bound is relative to the outputs' magnitude (at least 1): fp16 text states reach the tens.
    bound = verification_bound(spec, out_dir)
    print(f"  verify {spec.name:<20} max |onnxruntime - torch| = {worst:.3e} "
          f"(outputs up to {scale:.3g}; bound {bound:.1e} x max(1, that))")
    if not worst <= bound * scale:
        raise VerificationError(f"{spec.name}: max error {worst:.3e} exceeds bound {bound:.1e} x {scale:.3g}")
    return worst / scale


def verification_options(spec: GraphSpec) -> ort.SessionOptions:
    """One thread. For fp16 graphs, the least memory: the CPU provider has no fp16 kernels on x86 and casts every
    weight to fp32; with its optimisations on it folds those casts into fp32 copies held for the session (the
    real denoiser's 8.4 GB became 17 GB and outgrew this 24 GiB machine), while unoptimised and in priority
    order each cast runs just before its node and is freed after (an fp16 graph of 256 MB peaked at 329 MB,
    against 585 MB optimised and 777 MB in the default order, measured here). The graph's arithmetic is the
    same; its fusions are what the CPU provider would add."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    if spec.tolerance is not None:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.execution_order = ort.ExecutionOrder.PRIORITY_BASED
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
    return options


def verification_bound(spec: GraphSpec, out_dir: Path) -> float:
    """`spec.tolerance` where set (fp16 graphs), else float32's bound for this graph's rounding count at the
    verification sizes."""
    if spec.tolerance is not None:
        return spec.tolerance
    model = onnx.load(str(out_dir / spec.file), load_external_data=False)
    return relative_bound(count_roundings(model, spec.verify_dims or spec.example_dims, (out_dir / spec.file).parent).roundings)
