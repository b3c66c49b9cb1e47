"""The soft-edge detectors (ecomid_export/annotators) against controlnet_aux itself (pinned, loaded by its detector
files: published/controlnet_aux.py): the published layouts, the networks, the ONNX graphs and the whole
detector pipeline that the TypeScript side repeats."""

import math
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
import torch

from ecomid_export.annotators import (CONTROLNET_HED, TABLE5_PIDINET, TINY_HED, TINY_PIDINET, ControlNetHed,
                                      HedEdgeGraph, PiDiNet, PidiNetEdgeGraph, build_hed, build_pidinet,
                                      edge_graph_spec, export_edge_onnx, load_hed_checkpoint, load_pidinet_checkpoint,
                                      onnx_edge_function, reference_edge_map, tiny_random_hed, tiny_random_pidinet,
                                      torch_edge_function)
from ecomid_export.annotators.edge_graph import random_edge_inputs
from ecomid_export.annotators.pidinet import unwrap_pidinet_checkpoint
from ecomid_export.annotators.reference import hwc3, resize_image, resized_shape, safe_step
from ecomid_export.float_error import relative_bound, uint8_level_bound
from ecomid_export.onnx_export import VerificationError, verify_graph
from ecomid_export.published.controlnet_aux import (controlnet_aux_module, controlnet_aux_pidinet, hed_layout,
                                                    write_annotators, write_hed, write_pidinet)
from ecomid_export.strict_load import WeightMismatchError


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict[str, Path]:
    return write_annotators(tmp_path_factory.mktemp("annotators"), TINY_PIDINET, TINY_HED, seed=3)


@pytest.fixture(scope="module")
def photo(images_dir) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(images_dir / "chelsea.png")), cv2.COLOR_BGR2RGB)


def _layout(module: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


def _theirs_from_file(path: Path, config) -> torch.nn.Module:
    """controlnet_aux pidi/__init__.py's own loading: ['state_dict'], every 'module.' replaced, load_state_dict."""
    net = controlnet_aux_pidinet(config)
    net.load_state_dict({k.replace("module.", ""): v for k, v in torch.load(path)["state_dict"].items()})
    return net.eval()


# --- layouts -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("config", [TINY_PIDINET, TABLE5_PIDINET], ids=["tiny", "table5"])
def test_pidinet_names_shapes_and_order_are_controlnet_aux(config):
    assert _layout(PiDiNet(config)) == _layout(controlnet_aux_pidinet(config))


def test_table5_config_is_controlnet_aux_pidinet_factory():
    assert _layout(PiDiNet(TABLE5_PIDINET)) == _layout(controlnet_aux_module("pidi.model").pidinet())


def test_hed_names_and_shapes_are_controlnet_aux():
    theirs = _layout(controlnet_aux_module("hed").ControlNetHED_Apache2())
    assert _layout(ControlNetHed(CONTROLNET_HED)) == theirs
    assert list(hed_layout(CONTROLNET_HED).items()) == theirs  # the hand-written fixture layout, at full width


def test_published_pidinet_is_a_dataparallel_checkpoint(published):
    checkpoint = torch.load(published["pidinet"])
    assert set(checkpoint) == {"epoch", "state_dict"} and isinstance(checkpoint["epoch"], int)
    state = checkpoint["state_dict"]
    assert all(k.startswith("module.") for k in state)
    assert {v.dtype for v in state.values()} == {torch.float32}
    assert [(k[len("module."):], tuple(v.shape)) for k, v in state.items()] == _layout(controlnet_aux_pidinet(TINY_PIDINET))


def test_published_hed_is_a_plain_float16_state_dict(published):
    state = torch.load(published["hed"])
    assert {v.dtype for v in state.values()} == {torch.float16}
    assert [(k, tuple(v.shape)) for k, v in state.items()] == _layout(ControlNetHed(TINY_HED))


def test_tiny_random_detectors_hold_the_fixture_tensors(tmp_path):
    mine = tiny_random_pidinet(seed=5).net.state_dict()
    loaded = load_pidinet_checkpoint(write_pidinet(tmp_path, TINY_PIDINET, seed=5), TINY_PIDINET).state_dict()
    assert all(torch.equal(mine[k], loaded[k]) for k in loaded)
    mine = tiny_random_hed(seed=5).net.state_dict()
    loaded = load_hed_checkpoint(write_hed(tmp_path, TINY_HED, seed=5), TINY_HED).state_dict()
    assert all(torch.equal(mine[k], loaded[k]) for k in loaded)


# --- strict loading -------------------------------------------------------------------------------------------


def _mutated_pidinet(published: Path, tmp_path: Path, mutate) -> Path:
    checkpoint = torch.load(published)
    mutate(checkpoint["state_dict"])
    path = tmp_path / "table5_pidinet.pth"
    torch.save(checkpoint, path)
    return path


@pytest.mark.parametrize(("mutation", "named"), [
    (lambda s: s.pop("module.block2_1.shortcut.bias"), "missing tensors: block2_1.shortcut.bias"),
    (lambda s: s.update({"module.block1_1.shortcut.weight": torch.zeros(4, 4, 1, 1)}), "unexpected tensors: block1_1.shortcut.weight"),
    (lambda s: s.update({"module.dilations.0.conv2_3.weight": torch.zeros(4, 4, 5, 5)}), "dilations.0.conv2_3.weight: file (4, 4, 5, 5)"),
    (lambda s: s.update({"classifier.bias": s.pop("module.classifier.bias")}), "keys outside 'module.'"),
], ids=["missing", "unexpected", "misshaped", "unprefixed"])
def test_pidinet_loading_names_the_file_and_the_tensor(published, tmp_path, mutation, named):
    path = _mutated_pidinet(published["pidinet"], tmp_path, mutation)
    with pytest.raises(WeightMismatchError) as refused:
        load_pidinet_checkpoint(path, TINY_PIDINET)
    assert str(path) in str(refused.value) and named in str(refused.value)


def test_pidinet_without_its_checkpoint_wrapper_is_refused(published):
    bare = torch.load(published["pidinet"])["state_dict"]
    with pytest.raises(WeightMismatchError, match="'state_dict'"):
        unwrap_pidinet_checkpoint(bare, "bare.pth")


def test_hed_loading_names_the_file_and_the_tensor(published):
    state = torch.load(published["hed"])
    state.pop("block3.convs.2.bias")
    with pytest.raises(WeightMismatchError, match=r"ControlNetHED\.pth.*missing tensors: block3\.convs\.2\.bias"):
        build_hed(state, "ControlNetHED.pth", TINY_HED)
    with pytest.raises(WeightMismatchError, match=r"mis-shaped tensors: .*block1\.convs\.0\.weight: file \(4, 3, 3, 3\), model \(64, 3, 3, 3\)"):
        build_hed(torch.load(published["hed"]), "ControlNetHED.pth", CONTROLNET_HED)  # tiny file, full-width model


# --- the networks, against controlnet_aux's ------------------------------------------------------------------
# Same operations in the same order on the same float32 values (PDC kernels derived as controlnet_aux derives
# them; rd's 5x5 kernel built by exact copies), so the outputs are equal, not merely close.


def test_pidinet_equals_controlnet_aux_on_the_published_fixture(published):
    theirs = _theirs_from_file(published["pidinet"], TINY_PIDINET)
    mine = load_pidinet_checkpoint(published["pidinet"], TINY_PIDINET)
    image = random_edge_inputs({"height": 64, "width": 128}, seed=2)["image"]
    with torch.no_grad():
        for a, b in zip(mine(image), theirs(image), strict=True):
            assert torch.equal(a, b)


def test_pidinet_equals_controlnet_aux_at_table5_widths():
    torch.manual_seed(11)
    theirs = controlnet_aux_module("pidi.model").pidinet().eval()
    mine = build_pidinet(theirs.state_dict(), "controlnet_aux pidinet()")
    image = random_edge_inputs({"height": 64, "width": 128}, seed=4)["image"]
    with torch.no_grad():
        for a, b in zip(mine(image), theirs(image), strict=True):
            assert torch.equal(a, b)


def test_hed_equals_controlnet_aux_at_published_widths():
    torch.manual_seed(12)
    theirs = controlnet_aux_module("hed").ControlNetHED_Apache2().eval()
    with torch.no_grad():
        theirs.norm.copy_(torch.tensor([120.0, 110.0, 100.0]).view(1, 3, 1, 1))  # zeros by default: make it count
    mine = build_hed(theirs.state_dict(), "controlnet_aux ControlNetHED_Apache2()")
    pixels = torch.randint(0, 256, (1, 3, 64, 64)).float()
    with torch.no_grad():
        for a, b in zip(mine(pixels), theirs(pixels), strict=True):
            assert torch.equal(a, b)


# --- ONNX -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("detector", ["pidinet", "hed"])
def test_edge_graph_exports_with_the_declared_io_and_within_its_bound(tmp_path, detector):
    graph = tiny_random_pidinet(seed=1) if detector == "pidinet" else tiny_random_hed(seed=1)
    spec = edge_graph_spec(detector, ["test"])
    path, error, bound = export_edge_onnx(graph, spec, tmp_path)
    assert error <= bound
    model = onnx.load(str(path))
    assert [(v.name, [d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim]) for v in model.graph.input] == [
        ("image", [1, 3, "height", "width"])]
    assert [v.name for v in model.graph.output] == ["edge"]
    # The check has teeth: the same file against a network one weight apart is refused.
    other = tiny_random_pidinet(seed=1) if detector == "pidinet" else tiny_random_hed(seed=1)
    last_bias = other.net.classifier.bias if detector == "pidinet" else other.net.block5.projection.bias
    with torch.no_grad():
        last_bias.add_(0.01)
    with pytest.raises(VerificationError):
        verify_graph(other, replace(spec, tolerance=bound), random_edge_inputs, tmp_path)


def test_pidinet_at_published_widths_loads_and_exports_from_its_published_layout(tmp_path):
    """The real-mode path at full size (2.9 MB: cheap): published-layout file -> strict load -> verified graph."""
    net = load_pidinet_checkpoint(write_pidinet(tmp_path / "Annotators", TABLE5_PIDINET, seed=7))
    _, error, bound = export_edge_onnx(PidiNetEdgeGraph(net), edge_graph_spec("pidinet", ["test"]), tmp_path)
    assert error <= bound


def test_tiny_hed_edge_map_is_not_saturated(photo):
    """The tiny weights are scaled so the map spreads over (0, 1) (tiny.py): a saturated one would test nothing."""
    pixels = resize_image(photo, 128).astype(np.float32)[None].transpose(0, 3, 1, 2) / np.float32(255.0)
    edge = torch_edge_function(tiny_random_hed(seed=0))(np.ascontiguousarray(pixels))
    assert np.mean((edge > 0.02) & (edge < 0.98)) > 0.5


# --- the whole pipeline, against controlnet_aux's detectors ----------------------------------------------------


@pytest.mark.parametrize("safe", [False, True])
def test_pidinet_pipeline_equals_controlnet_aux_detector(published, photo, safe):
    """Exactly: the network is equal (above) and the OpenCV / numpy steps are the same calls."""
    detector = controlnet_aux_module("pidi").PidiNetDetector(_theirs_from_file(published["pidinet"], TINY_PIDINET))
    theirs = detector(photo, detect_resolution=128, image_resolution=192, safe=safe, output_type="np")
    graph = PidiNetEdgeGraph(load_pidinet_checkpoint(published["pidinet"], TINY_PIDINET))
    mine = reference_edge_map(photo, torch_edge_function(graph), detect_resolution=128, image_resolution=192, safe=safe)
    assert mine.dtype == np.uint8 and mine.shape == theirs.shape == (192, 256, 3)
    assert np.array_equal(mine, theirs)


def _level_bound(relative: float) -> int:
    """uint8 levels two edge maps may differ by when their float edges differ by `relative` (the edge is in [0,1]):
    the truncation to uint8 may split them by 1 + floor(relative * 255), and the final INTER_LINEAR resize, a
    convex combination rounded once, cannot widen a difference of whole levels."""
    return uint8_level_bound(relative, 1.0, 255.0)


def test_hed_pipeline_matches_controlnet_aux_detector(published, photo):
    """controlnet_aux resizes the projections with cv2 and takes mean and sigmoid in numpy (float64); the graph does
    both in float32 torch. Their float difference: a bilinear tap (4 products, 3 sums), the mean of 5 and the
    sigmoid's kernel, scaled by the logits' magnitude (edge_graph.logit_scale). safe=False only: safe_step turns
    any difference at one of its thresholds into half the range."""
    net = load_hed_checkpoint(published["hed"], TINY_HED)
    detector = controlnet_aux_module("hed").HEDdetector(net)
    theirs = detector(photo, detect_resolution=128, image_resolution=192, output_type="np")
    graph = HedEdgeGraph(net)
    mine = reference_edge_map(photo, torch_edge_function(graph), detect_resolution=128, image_resolution=192)
    assert mine.shape == theirs.shape == (192, 256, 3)
    pixels = resize_image(photo, 128).astype(np.float32)[None].transpose(0, 3, 1, 2) / np.float32(255.0)
    with torch.no_grad():
        logits = max(1.0, float(graph.logits(torch.from_numpy(np.ascontiguousarray(pixels))).abs().max()))
    roundings = 7 + 5 + 16  # bilinear tap + mean of 5 + sigmoid kernel (float_error.APPROXIMATION_ROUNDINGS)
    assert np.abs(mine.astype(int) - theirs).max() <= _level_bound(relative_bound(roundings, amplification=logits))


def test_hed_graph_resizes_averages_and_squashes_as_controlnet_aux(photo):
    """The float edge itself, against HEDdetector's steps on the same projections: cv2.resize INTER_LINEAR of each
    to the input size, the mean in float32, the sigmoid in float64. Bound as in the uint8 comparison above."""
    graph = tiny_random_hed(seed=2)
    pixels = torch.from_numpy(np.ascontiguousarray(
        resize_image(photo, 128).astype(np.float32)[None].transpose(0, 3, 1, 2) / np.float32(255.0)))
    height, width = pixels.shape[2:]
    with torch.no_grad():
        projections = [p[0, 0].numpy() for p in graph.net(pixels * 255.0)]
        edge = graph(pixels)[0, 0].numpy()
    resized = np.stack([cv2.resize(p, (width, height), interpolation=cv2.INTER_LINEAR) for p in projections], axis=2)
    logits = np.mean(resized, axis=2)
    expected = 1 / (1 + np.exp(-logits.astype(np.float64)))
    bound = relative_bound(7 + 5 + 16, amplification=max(1.0, float(np.abs(logits).max())))
    assert np.abs(edge - expected).max() <= bound


def test_onnx_pidinet_pipeline_matches_controlnet_aux_detector(published, photo, tmp_path):
    detector = controlnet_aux_module("pidi").PidiNetDetector(_theirs_from_file(published["pidinet"], TINY_PIDINET))
    theirs = detector(photo, detect_resolution=128, image_resolution=192, output_type="np")
    graph = PidiNetEdgeGraph(load_pidinet_checkpoint(published["pidinet"], TINY_PIDINET))
    path, _, bound = export_edge_onnx(graph, edge_graph_spec("pidinet", ["test"]), tmp_path)
    mine = reference_edge_map(photo, onnx_edge_function(path), detect_resolution=128, image_resolution=192)
    assert np.abs(mine.astype(int) - theirs).max() <= _level_bound(bound)


# --- the pipeline's steps, against controlnet_aux's util.py -----------------------------------------------------


@pytest.mark.parametrize(("shape", "resolution"), [
    ((300, 451), 512),  # enlarging: LANCZOS4
    ((300, 451), 128),  # shrinking: AREA
    ((64, 160), 64),  # k = 1 (AREA) and 160 / 64 = 2.5, numpy's round -> 2 (ties to even)
    ((96, 224), 64),  # 224 * 2/3 / 64 = 2.33 -> 2
    ((480, 360), 512),  # portrait
])
def test_resize_matches_controlnet_aux(shape, resolution):
    util = controlnet_aux_module("util")
    image = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    assert np.array_equal(resize_image(image, resolution), util.resize_image(image, resolution))


def test_resize_rounds_ties_to_even():
    assert resized_shape(64, 160, 64) == (64, 128, cv2.INTER_AREA)
    assert resized_shape(64, 224, 64) == (64, 256, cv2.INTER_AREA)  # 3.5 -> 4
    assert resized_shape(256, 384, 512)[2] == cv2.INTER_LANCZOS4


def test_hwc3_matches_controlnet_aux():
    util = controlnet_aux_module("util")
    rng = np.random.default_rng(1)
    for shape in ((8, 9), (8, 9, 1), (8, 9, 3), (8, 9, 4)):
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        assert np.array_equal(hwc3(image), util.HWC3(image))


def test_safe_step_matches_controlnet_aux_at_its_thresholds():
    util = controlnet_aux_module("util")
    thirds = np.float32([0.0, 1 / 3, 2 / 3, 1.0])
    edge = np.concatenate([thirds, np.nextafter(thirds, np.float32(0)), np.nextafter(thirds, np.float32(1)),
                           np.linspace(0, 1, 1001, dtype=np.float32)])
    assert np.array_equal(safe_step(edge), util.safe_step(edge))
    assert set(np.unique(safe_step(edge)).tolist()) == {0.0, 0.5, 1.0, 1.5}
    assert math.isclose(float(safe_step(np.float32([0.999]))[0]), 1.0)
