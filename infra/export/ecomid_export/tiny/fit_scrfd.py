"""Fit the tiny SCRFD-shaped detector so the tiny bundle finds the one face in astronaut.png and none elsewhere.

A fixture, not a face detector: it memorises three images. Fixed seeds and a
single thread make the fit deterministic; it takes about 40 s on one core.
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..face_detection import DET_SIZES, detect, letterbox, torch_runner
from ..images import read_rgb
from ..models.scrfd import STRIDES, TinyScrfd, anchor_centers

# Hand-placed on astronaut.png (512x512): a SCRFD-like box, forehead to chin, and the 5 keypoints
# (left eye, right eye, nose, left and right mouth corner, as the viewer sees them).
ASTRONAUT_BOX = (172.0, 62.0, 280.0, 178.0)
ASTRONAUT_KPS = ((203.0, 101.0), (247.0, 103.0), (226.0, 126.0), (208.0, 141.0), (243.0, 140.0))
FIT_SIZE = 640
STEPS = 150
# The few positive anchors would otherwise drown among tens of thousands of negatives.
POSITIVE_WEIGHT = torch.tensor(20.0)
REGRESSION_WEIGHT = 10.0


def _targets(size: int, scale: float):
    """Per stride: (labels [K*2], box targets, kps targets, positive mask) for the astronaut at `size`."""
    box = np.array(ASTRONAUT_BOX) * scale
    kps = np.array(ASTRONAUT_KPS) * scale
    center = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    extent = np.array([box[2] - box[0], box[3] - box[1]])
    targets = []
    for stride in STRIDES:
        c = anchor_centers(size, stride).numpy()
        # Positives: the anchors nearest the face centre, on the strides that suit a ~140 px face.
        near = np.all(np.abs(c - center) <= max(0.12 * extent.max(), stride * 0.75), axis=1) & (stride >= 16)
        distances = np.stack([c[:, 0] - box[0], c[:, 1] - box[1], box[2] - c[:, 0], box[3] - c[:, 1]], axis=1) / stride
        offsets = (kps[None] - c[:, None]).reshape(len(c), 10) / stride
        targets.append(tuple(torch.from_numpy(a).float() for a in (near.astype(np.float32), distances, offsets)) +
                       (torch.from_numpy(near),))
    return targets


def fit_scrfd(images_dir: Path, width: int, seed: int = 0) -> TinyScrfd:
    torch.manual_seed(seed)
    model = TinyScrfd(width)
    face = read_rgb(images_dir / "astronaut.png")
    negatives = [read_rgb(images_dir / n) for n in ("coffee.png", "chelsea.png")]
    positive_blob, scale = letterbox(face, FIT_SIZE)
    batch = [(torch.from_numpy(positive_blob), _targets(FIT_SIZE, scale))]
    # Negatives at every size the pipeline tries, so no size finds a face in them.
    for image in negatives:
        for size in DET_SIZES:
            batch.append((torch.from_numpy(letterbox(image, size)[0]), None))
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = sum(_loss(model, blob, targets) for blob, targets in batch)
        loss.backward()
        optimizer.step()
    model.eval()
    check_fixture(model, images_dir)
    return model


def _loss(model, blob, targets):
    total = 0.0
    for i, (logit, boxes, kps) in enumerate(model.logits(blob)):
        labels = torch.zeros_like(logit[:, 0]) if targets is None else targets[i][0]
        total = total + F.binary_cross_entropy_with_logits(logit[:, 0], labels, reduction="sum", pos_weight=POSITIVE_WEIGHT) / 50.0
        if targets is not None and targets[i][3].any():
            mask = targets[i][3]
            total = total + REGRESSION_WEIGHT * (F.smooth_l1_loss(boxes[mask], targets[i][1][mask]) + F.smooth_l1_loss(kps[mask], targets[i][2][mask]))
    return total


def check_fixture(model: TinyScrfd, images_dir: Path) -> None:
    """The fixture's promise: one face at a plausible box in astronaut.png, none in the others."""
    run = torch_runner(model)
    boxes, points, size = detect(run, read_rgb(images_dir / "astronaut.png"))
    if len(boxes) != 1 or size != DET_SIZES[0]:
        raise RuntimeError(f"tiny SCRFD fit failed: {len(boxes)} faces in astronaut.png at size {size}: {boxes}")
    if _iou(boxes[0, :4], ASTRONAUT_BOX) < 0.7 or np.abs(points[0] - np.array(ASTRONAUT_KPS)).max() > 12:
        raise RuntimeError(f"tiny SCRFD fit failed: box {boxes[0]} keypoints {points[0]}")
    for name in ("coffee.png", "chelsea.png"):
        found, _, _ = detect(run, read_rgb(images_dir / name))
        if len(found):
            raise RuntimeError(f"tiny SCRFD fit failed: {len(found)} faces in {name}")


def _iou(a, b) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
