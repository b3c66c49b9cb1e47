"""SCRFD pre/post-processing as insightface does it (model_zoo/scrfd.py), shared by the fitting step and the reference run."""

import cv2
import numpy as np
import torch

from .models.scrfd import STRIDES, anchor_centers

SCORE_THRESHOLD = 0.5
NMS_THRESHOLD = 0.4
DET_SIZES = tuple(range(640, 191, -64))


def letterbox(image_rgb: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """Keep aspect, bilinear, pasted top-left on zeros; returns (blob [1,3,S,S], det_scale)."""
    h, w = image_rgb.shape[:2]
    if h / w > 1:
        new_h, new_w = size, int(size * w / h)
    else:
        new_w, new_h = size, int(size * h / w)
    canvas = np.zeros((size, size, 3), dtype=np.uint8)
    canvas[:new_h, :new_w] = cv2.resize(image_rgb, (new_w, new_h))
    blob = (canvas.astype(np.float32) - 127.5) / 128.0
    return blob.transpose(2, 0, 1)[None], new_h / h


def decode(outputs: list[np.ndarray], size: int, det_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes [n,5] (x1,y1,x2,y2,score) and keypoints [n,5,2] in source pixels, sorted, after NMS."""
    boxes, points, scores = [], [], []
    for i, stride in enumerate(STRIDES):
        score, dist, kps = outputs[i][:, 0], outputs[i + 3] * stride, outputs[i + 6] * stride
        centers = anchor_centers(size, stride).numpy()
        keep = score >= SCORE_THRESHOLD
        c, d, k = centers[keep], dist[keep], kps[keep]
        boxes.append(np.stack([c[:, 0] - d[:, 0], c[:, 1] - d[:, 1], c[:, 0] + d[:, 2], c[:, 1] + d[:, 3]], axis=1))
        points.append(np.tile(c, 5).reshape(-1, 5, 2) + k.reshape(-1, 5, 2))
        scores.append(score[keep])
    scores = np.concatenate(scores)
    order = np.argsort(-scores, kind="stable")
    boxes = np.concatenate(boxes)[order] / det_scale
    points = np.concatenate(points)[order] / det_scale
    keep = nms(boxes, NMS_THRESHOLD)
    return np.concatenate([boxes, scores[order][:, None]], axis=1)[keep], points[keep]


def nms(boxes: np.ndarray, threshold: float) -> list[int]:
    """Greedy NMS on score-sorted boxes with insightface's +1 pixel area convention."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order, keep = list(range(len(boxes))), []
    while order:
        i, rest = order[0], np.array(order[1:], dtype=np.int64)
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        overlap = w * h / (areas[i] + areas[rest] - w * h)
        order = [int(j) for j, o in zip(rest, overlap) if o <= threshold]
    return keep


def detect(run, image_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Try sizes 640, 576, ..., 192; first size with a face wins (EcomID's node retries so). `run(blob) -> 9 arrays`."""
    for size in DET_SIZES:
        blob, scale = letterbox(image_rgb, size)
        boxes, points = decode(run(blob), size, scale)
        if len(boxes):
            return boxes, points, size
    return np.zeros((0, 5), np.float32), np.zeros((0, 5, 2), np.float32), 0


def torch_runner(model: torch.nn.Module):
    def run(blob: np.ndarray) -> list[np.ndarray]:
        with torch.no_grad():
            return [o.numpy() for o in model(torch.from_numpy(blob))]
    return run
