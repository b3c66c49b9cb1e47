"""A soft-edge detector's whole pipeline as controlnet_aux 0.0.10 runs it (PidiNetDetector.__call__ in
pidi/__init__.py, HEDdetector.__call__ in hed/__init__.py, helpers in util.py), with the network replaced by our
`pidinet` / `hed` graph (edge_graph.py). Only the `scribble` and `apply_filter` options are left out (the EcomXL
Softedge card uses neither). Each step names the OpenCV call so the TypeScript side can repeat it; README.md
(edge detectors) lists them too.
"""

from collections.abc import Callable

import cv2
import numpy as np
import torch

EdgeFunction = Callable[[np.ndarray], np.ndarray]  # float32 [1,3,H,W] RGB in [0,1] -> float32 [1,1,H,W] in [0,1]

# controlnet_aux's defaults, which the EcomXL Softedge card's `edge_processor(image, safe=False)` keeps.
DETECT_RESOLUTION = 512
IMAGE_RESOLUTION = 512
SAFE_STEPS = 2  # util.py safe_step(x, step=2)


def hwc3(image: np.ndarray) -> np.ndarray:
    """util.py HWC3: uint8 gray -> 3 equal channels; RGBA -> composited over white in float32,
    color * a + 255 * (1 - a) with a = alpha / 255, clipped and truncated (astype) to uint8."""
    if image.dtype != np.uint8:
        raise TypeError(f"HWC3 takes uint8, got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    channels = image.shape[2]
    if channels == 3:
        return image
    if channels == 1:
        return np.concatenate([image] * 3, axis=2)
    if channels == 4:
        color = image[:, :, :3].astype(np.float32)
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        return (color * alpha + 255.0 * (1.0 - alpha)).clip(0, 255).astype(np.uint8)
    raise ValueError(f"HWC3 takes 1, 3 or 4 channels, got {channels}")


def resized_shape(height: int, width: int, resolution: int) -> tuple[int, int, int]:
    """util.py resize_image's target and interpolation: k = resolution / min(H, W) in float64, each side scaled by k
    and rounded to a multiple of 64 by numpy's round (ties to even: 2.5 -> 2, unlike JavaScript's Math.round),
    INTER_LANCZOS4 when k > 1 else INTER_AREA. Returns (height, width, cv2 flag)."""
    k = float(resolution) / min(float(height), float(width))
    h = int(np.round(float(height) * k / 64.0)) * 64
    w = int(np.round(float(width) * k / 64.0)) * 64
    return h, w, cv2.INTER_LANCZOS4 if k > 1 else cv2.INTER_AREA


def resize_image(image: np.ndarray, resolution: int) -> np.ndarray:
    h, w, interpolation = resized_shape(image.shape[0], image.shape[1], resolution)
    return cv2.resize(image, (w, h), interpolation=interpolation)


def safe_step(edge: np.ndarray, steps: int = SAFE_STEPS) -> np.ndarray:
    """util.py safe_step: float32 edge * (steps + 1), truncated toward zero (astype int32), / steps: with 2 steps the
    map takes only 0, 0.5, 1 and 1.5 (the last where edge = 1 exactly)."""
    y = edge.astype(np.float32) * np.float32(steps + 1)
    return y.astype(np.int32).astype(np.float32) / np.float32(steps)


def to_uint8(edge: np.ndarray) -> np.ndarray:
    """(edge * 255.0).clip(0, 255).astype(uint8): the product in the edge's float32 (numpy keeps float32 when
    multiplying by a Python float), clipped, truncated toward zero."""
    return (edge.astype(np.float32) * np.float32(255.0)).clip(0, 255).astype(np.uint8)


def reference_edge_map(rgb: np.ndarray, edge_function: EdgeFunction, detect_resolution: int = DETECT_RESOLUTION,
                       image_resolution: int = IMAGE_RESOLUTION, safe: bool = False) -> np.ndarray:
    """The detector's uint8 [H', W', 3] edge map of an RGB(A) or gray uint8 photo, step by step:

    1. hwc3(rgb).
    2. Resize to detect_resolution: resized_shape's size, cv2.resize with INTER_LANCZOS4 (enlarging) or INTER_AREA.
    3. The graph on float32 pixels / 255 (a division, as controlnet_aux does), NCHW, RGB (the pidinet graph turns
       it into the BGR its network was trained on; the hed graph scales it back to 0..255).
    4. safe_step when `safe`.
    5. to_uint8, then gray to 3 channels (hwc3).
    6. Resize to the size resize_image would give the *detect-sized* image at image_resolution (controlnet_aux
       sizes the output from the already resized input), cv2.resize INTER_LINEAR on the uint8 map.
    """
    image = resize_image(hwc3(rgb), detect_resolution)
    pixels = image.astype(np.float32) / np.float32(255.0)
    edge = edge_function(np.ascontiguousarray(pixels.transpose(2, 0, 1)[None]))[0, 0]
    if safe:
        edge = safe_step(edge)
    edge_map = hwc3(to_uint8(edge))
    h, w, _ = resized_shape(image.shape[0], image.shape[1], image_resolution)
    return cv2.resize(edge_map, (w, h), interpolation=cv2.INTER_LINEAR)


def torch_edge_function(graph: torch.nn.Module) -> EdgeFunction:
    def run(pixels: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return graph.eval()(torch.from_numpy(pixels)).numpy()
    return run


def onnx_edge_function(path) -> EdgeFunction:
    import onnxruntime as ort  # noqa: PLC0415 - only callers holding an exported graph need it

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda pixels: session.run(["edge"], {"image": pixels})[0]
