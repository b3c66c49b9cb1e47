"""insightface's antelopev2 folder (the model zoo's antelopev2.zip): ONNX files used as they are.

`scrfd_10g_bnkps.onnx`: input `input.1` [1, 3, ?, ?]; nine outputs, scores / boxes / keypoints for strides
8, 16, 32, named by the exporter's node numbers (448, 471, 494, 451, 474, 497, 454, 477, 500); insightface
reads them by position (python-package insightface/model_zoo/scrfd.py). `glintr100.onnx`: input `input.1`
[?, 3, 112, 112], one output [?, 512] (1333), read by position too (model_zoo/arcface_onnx.py). The zip also
holds 1k3d68.onnx, 2d106det.onnx and genderage.onnx, which EcomID never uses and are not written.

No antelopev2 weights exist here, so the graphs come from elsewhere with the published names and shapes put
on them: the tests use the tiny bundle's fitted SCRFD fixture (it finds the face in astronaut.png at any
detection size) and its tiny ArcFace; the full-size rehearsal uses the same detector and a full-size stand-in.
"""

from pathlib import Path

import onnx

SCRFD_OUTPUTS = ["448", "471", "494", "451", "474", "497", "454", "477", "500"]
ARCFACE_OUTPUTS = ["1333"]
PUBLISHED_INPUT = "input.1"


def with_published_names(source: Path, target: Path, outputs: list[str], dynamic_axes: dict[int, str]) -> None:
    """Copy an ONNX graph, renaming its input and outputs (everywhere they are used) and unfixing `dynamic_axes`
    of the input as the published file leaves them."""
    model = onnx.load(str(source))
    graph = model.graph
    renames = {graph.input[0].name: PUBLISHED_INPUT} | {o.name: new for o, new in zip(graph.output, outputs, strict=True)}
    for node in graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    for value in [*graph.input, *graph.output]:
        value.name = renames.get(value.name, value.name)
    for axis, name in dynamic_axes.items():
        graph.input[0].type.tensor_type.shape.dim[axis].dim_param = name
    onnx.checker.check_model(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target))


def write_antelopev2(folder: Path, scrfd_source: Path, arcface_source: Path) -> Path:
    with_published_names(scrfd_source, folder / "scrfd_10g_bnkps.onnx", SCRFD_OUTPUTS, {2: "?", 3: "?"})
    with_published_names(arcface_source, folder / "glintr100.onnx", ARCFACE_OUTPUTS, {0: "None"})
    return folder


