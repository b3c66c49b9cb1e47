"""facexlib's RetinaFace post-processing (priors, decode, threshold, NMS), as FaceRestoreHelper.get_face_landmarks_5
runs it at native size (facexlib/detection/retinaface.py detect_faces with conf_threshold 0.97). No bundle graph
needs it: infra/bench/eva_crop_landmarks.py measures the crop it would give against SCRFD's."""

import math

import numpy as np
import torch

from .face_detection import nms

MIN_SIZES = ((16, 32), (64, 128), (256, 512))
STEPS = (8, 16, 32)
VARIANCES = (0.1, 0.2)
CONFIDENCE = 0.97
NMS_THRESHOLD = 0.4
BGR_MEAN = (104.0, 117.0, 123.0)


def priors(height: int, width: int) -> np.ndarray:
    """[P, 4] (cx, cy, w, h) relative to the image: rows, then columns, then min sizes (facexlib's PriorBox)."""
    boxes = []
    for step, sizes in zip(STEPS, MIN_SIZES):
        for i in range(math.ceil(height / step)):
            for j in range(math.ceil(width / step)):
                for size in sizes:
                    boxes.append([(j + 0.5) * step / width, (i + 0.5) * step / height, size / width, size / height])
    return np.array(boxes, dtype=np.float32)


def blob(image_rgb: np.ndarray) -> np.ndarray:
    """[1,3,H,W] BGR minus the mean, at native size."""
    bgr = image_rgb[:, :, ::-1].astype(np.float32) - np.array(BGR_MEAN, np.float32)
    return bgr.transpose(2, 0, 1)[None].copy()


def decode(loc: np.ndarray, conf: np.ndarray, landms: np.ndarray, height: int, width: int):
    """(boxes [n,5] x1,y1,x2,y2,score; landmarks [n,5,2]) in pixels, score-sorted, after NMS."""
    p = priors(height, width)
    centers = p[:, :2] + loc[:, :2] * VARIANCES[0] * p[:, 2:]
    with np.errstate(over="ignore"):  # far-off priors may overflow; they are below the threshold anyway
        sizes = p[:, 2:] * np.exp(loc[:, 2:] * VARIANCES[1])
    boxes = np.concatenate([centers - sizes / 2, centers + sizes / 2], axis=1) * np.array([width, height] * 2)
    points = (p[:, None, :2] + landms.reshape(-1, 5, 2) * VARIANCES[0] * p[:, None, 2:]) * np.array([width, height])
    scores = conf[:, 1]
    keep = np.where(scores > CONFIDENCE)[0]
    order = keep[np.argsort(-scores[keep], kind="stable")]
    boxes, points, scores = boxes[order], points[order], scores[order]
    kept = nms(boxes, NMS_THRESHOLD)
    return np.concatenate([boxes, scores[:, None]], axis=1)[kept], points[kept]


def detect(run, image_rgb: np.ndarray):
    """`run(blob) -> (loc, conf, landms)` at the image's own size; returns decode's (boxes, landmarks)."""
    h, w = image_rgb.shape[:2]
    loc, conf, landms = run(blob(image_rgb))
    return decode(loc[0], conf[0], landms[0], h, w)


def torch_runner(model: torch.nn.Module):
    def run(image_blob: np.ndarray) -> list[np.ndarray]:
        with torch.no_grad():
            return [o.numpy() for o in model(torch.from_numpy(image_blob))]
    return run
