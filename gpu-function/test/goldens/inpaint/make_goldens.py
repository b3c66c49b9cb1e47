"""Goldens of the inpaint and softedge image operations, made with the libraries the contract names (issue 14):
Pillow's convert("L"), cv2 4.13 (dilate, erode, GaussianBlur, resize) and numpy float32 arithmetic (the EcomXL
Inpaint model card's make_inpaint_condition and add_fg, https://huggingface.co/alimama-creative/EcomXL_controlnet_inpaint).

Run with infra/export/.venv (opencv-python-headless as pinned there; Pillow and numpy come with its other pins):
    infra/export/.venv/bin/python gpu-function/test/goldens/inpaint/make_goldens.py
Writes inpaint-goldens.json beside this script. Small random cases are stored whole (base64 of raw bytes: uint8
HWC, or float32 little-endian NCHW) so a failure shows where; the real-photo cases are too large to commit, so
they are stored as the SHA-256 of the same raw bytes.
"""

import base64
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[4]
rng = np.random.default_rng(20261205)
b64 = lambda a: base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()  # noqa: E731
sha = lambda a: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()  # noqa: E731


def luma(rgb: np.ndarray) -> np.ndarray:
    return np.array(Image.fromarray(rgb, "RGB").convert("L"))


def grow(mask: np.ndarray, px: int) -> np.ndarray:
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1)))


def feather_u8(mask: np.ndarray, px: int) -> np.ndarray:
    k = 2 * px + 1
    return cv2.GaussianBlur(cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))), (k, k), 0)


def add_fg(generated: np.ndarray, original: np.ndarray, weights_u8: np.ndarray) -> np.ndarray:
    w = weights_u8.astype(np.float32)[:, :, None] / 255.0
    out = generated.astype(np.float32) * w + original.astype(np.float32) * (1 - w)
    return np.clip(out, 0, 255).astype(np.uint8)


def inpaint_condition(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    image = rgb.astype(np.float32) / 255.0
    image[mask > 127] = -1.0
    return np.expand_dims(image, 0).transpose(0, 3, 1, 2)


def softedge_condition(gray: np.ndarray, width: int, height: int) -> np.ndarray:
    if gray.shape != (height, width):
        gray = cv2.resize(gray, (width, height), interpolation=cv2.INTER_LINEAR)
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    return np.expand_dims(rgb.astype(np.float32) / 255.0, 0).transpose(0, 3, 1, 2)


def irregular_mask(h: int, w: int) -> np.ndarray:
    """Blobs and single pixels: thresholded smoothed noise, so masks have holes, islands and thin parts."""
    noise = cv2.GaussianBlur(rng.uniform(0, 1, (h, w)).astype(np.float32), (0, 0), 2.0)
    mask = np.where(noise > np.median(noise), 255, 0).astype(np.uint8)
    mask[rng.integers(0, h, 5), rng.integers(0, w, 5)] = 255
    return mask


def small_cases() -> dict:
    h, w = 29, 41
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = irregular_mask(h, w)
    generated = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    out = {"width": w, "height": h, "rgb": b64(rgb), "mask": b64(mask), "generated": b64(generated), "luma": b64(luma(rgb))}
    out["grow"] = [{"px": px, "mask": b64(grow(mask, px))} for px in (1, 2, 5)]
    out["feather"] = [{"px": px, "weights": b64(feather_u8(mask, px)), "kept": b64(add_fg(generated, rgb, feather_u8(mask, px)))} for px in (0, 1, 3, 8)]
    out["condition"] = b64(inpaint_condition(rgb, mask))
    resizes = []
    for dw, dh in [(20, 15), (64, 48), (41, 29), (30, 40)]:
        resizes.append({"outWidth": dw, "outHeight": dh, "area": b64(cv2.resize(rgb, (dw, dh), interpolation=cv2.INTER_AREA)),
                        "cubic": b64(cv2.resize(rgb, (dw, dh), interpolation=cv2.INTER_CUBIC)),
                        "nearest": b64(cv2.resize(mask, (dw, dh), interpolation=cv2.INTER_NEAREST)),
                        "softedge": b64(softedge_condition(luma(rgb), dw, dh))})
    out["resize"] = resizes
    return out


def photo(name: str) -> np.ndarray:
    return np.array(Image.open(ROOT / "test" / "fixtures" / "images" / f"{name}.png").convert("RGB"))


def photo_cases() -> dict:
    """coffee.png with its own bright parts (luma >= 128) as the mask: a real, irregular shape."""
    coffee = photo("coffee")
    mask = np.where(luma(coffee) >= 128, 255, 0).astype(np.uint8)
    grown = grow(mask, 6)
    weights = feather_u8(grown, 8)
    inverted = 255 - coffee
    astronaut, chelsea = photo("astronaut"), photo("chelsea")
    return {
        "mask": sha(mask),
        "grown6": sha(grown),
        "feather8": sha(weights),
        "kept": sha(add_fg(inverted, coffee, weights)),
        "condition": sha(inpaint_condition(coffee, grown)),
        "astronautArea320": sha(cv2.resize(astronaut, (320, 320), interpolation=cv2.INTER_AREA)),
        # INTER_CUBIC is not bit-exact even within cv2 (its vectorised vertical pass rounds through float32), so the
        # enlarged photo is stored whole for a 1-level comparison: a 160x120 crop of chelsea.png, enlarged to 200x150.
        "chelseaCrop": {"x": 140, "y": 80, "width": 160, "height": 120, "outWidth": 200, "outHeight": 150,
                        "cubic": b64(cv2.resize(np.ascontiguousarray(chelsea[80:200, 140:300]), (200, 150), interpolation=cv2.INTER_CUBIC))},
        "maskNearest576x384": sha(cv2.resize(grown, (576, 384), interpolation=cv2.INTER_NEAREST)),
        "softedge640x448": sha(softedge_condition(luma(coffee), 640, 448)),
    }


goldens = {"opencv": cv2.__version__, "pillow": Image.__version__, "numpy": np.__version__, "small": small_cases(), "photo": photo_cases()}
Path(__file__).with_name("inpaint-goldens.json").write_text(json.dumps(goldens))
