"""Goldens of OpenCV's raster and resampling behaviour that the face preprocessing must match bit for bit.

Run with infra/export/.venv (opencv-python as pinned there):
    infra/export/.venv/bin/python gpu-function/test/goldens/faces/make_goldens.py
Writes cv2-goldens.json beside this script. Every array is base64 of raw uint8 (HWC) bytes.
"""

import base64
import json
from pathlib import Path

import sys

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "infra" / "export"))
from ecomid_export.reference.keypoints import draw_keypoints, hint_for_output  # noqa: E402  (the reference itself)

rng = np.random.default_rng(20261126)
b64 = lambda a: base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode()  # noqa: E731


def sin_table() -> list[float]:
    """cv2's 1-degree sine table, read back through ellipse2Poly with a huge axis (angle 0: x = A * table[450 - i])."""
    big = 2_000_000_000
    points = cv2.ellipse2Poly((0, 0), (big, 0), 0, 0, 90, 1)
    # i-th point: x = round(big * table[450 - i]) = round(big * table[90 - i]) for i in 0..90.
    return [float(np.float32(p[0] / big)) for p in points[::-1]]  # table[0..90]


def resize_cases() -> list[dict]:
    shapes = [(37, 53, 101, 77), (40, 30, 20, 15), (64, 48, 80, 60), (31, 17, 30, 19), (50, 50, 64, 64), (23, 41, 9, 13)]
    out = []
    for w, h, dw, dh in shapes:
        src = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        out.append({"width": w, "height": h, "outWidth": dw, "outHeight": dh, "src": b64(src), "dst": b64(cv2.resize(src, (dw, dh)))})
    return out


def warp_cases() -> list[dict]:
    out = []
    for i in range(6):
        h, w = 40 + 3 * i, 50 - 2 * i
        src = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        angle, scale = rng.uniform(-3.1, 3.1), rng.uniform(0.4, 2.5)
        m = np.array([[scale * np.cos(angle), -scale * np.sin(angle), rng.uniform(-20, 40)],
                      [scale * np.sin(angle), scale * np.cos(angle), rng.uniform(-20, 40)]])
        border = [int(v) for v in rng.integers(0, 256, 3)]
        dst = cv2.warpAffine(src, m, (33, 29), borderMode=cv2.BORDER_CONSTANT, borderValue=tuple(border))
        out.append({"width": w, "height": h, "matrix": m.ravel().tolist(), "border": border, "src": b64(src), "dst": b64(dst)})
    return out


def raster_cases() -> dict:
    ellipses, polygons, circles = [], [], []
    for _ in range(12):
        center = [int(v) for v in rng.integers(-10, 60, 2)]
        axes = [int(rng.integers(0, 40)), int(rng.integers(0, 8))]
        angle = int(rng.integers(-400, 400))
        pts = cv2.ellipse2Poly(tuple(center), tuple(axes), angle, 0, 360, 1)
        canvas = np.zeros((48, 48, 3), np.float64)
        canvas = cv2.fillConvexPoly(canvas, pts, (255, 7, 1))
        ellipses.append({"center": center, "axes": axes, "angle": angle, "points": pts.tolist()})
        polygons.append({"points": pts.tolist(), "mask": b64(canvas[:, :, 0] > 0)})
    for _ in range(12):
        center = [int(v) for v in rng.integers(-12, 60, 2)]
        radius = int(rng.integers(1, 14))
        canvas = np.zeros((48, 48, 3), np.uint8)
        canvas = cv2.circle(canvas, tuple(center), radius, (255, 0, 0), -1)
        circles.append({"center": center, "radius": radius, "mask": b64(canvas[:, :, 0] > 0)})
    return {"size": 48, "ellipses": ellipses, "polygons": polygons, "circles": circles}


def keypoint_cases() -> list[dict]:
    """The reference's draw_kps on random float32 keypoints (faces tilted both ways, some off the canvas), and its hint."""
    out = []
    for i in range(7):
        width, height = 72, 64
        centre = rng.uniform([10, 10], [62, 54]) if i < 3 or i >= 5 else rng.uniform([-5, -5], [80, 70])
        angle, size = rng.uniform(-1.2, 1.2), rng.uniform(6, 30) if i < 5 else rng.uniform(55, 70)  # long sticks show 1-degree angle errors
        face = np.array([[-0.35, -0.3], [0.35, -0.3], [0.0, 0.05], [-0.28, 0.4], [0.28, 0.4]]) * size
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        keypoints = (face @ rot.T + centre + rng.normal(0, 0.7, (5, 2))).astype(np.float32)
        image = draw_keypoints(height, width, keypoints)
        hint_w, hint_h = [(40, 56), (64, 32), (24, 24), (72, 64), (30, 31), (72, 64), (36, 32)][i]
        out.append({"width": width, "height": height, "keypoints": keypoints.tolist(), "image": b64(image),
                    "hintWidth": hint_w, "hintHeight": hint_h, "hint": b64(hint_for_output(image, hint_h, hint_w))})
    return out


goldens = {"opencv": cv2.__version__, "sinTable": sin_table(), "resize": resize_cases(), "warp": warp_cases(), **raster_cases(), "keypoints": keypoint_cases()}
Path(__file__).with_name("cv2-goldens.json").write_text(json.dumps(goldens))
