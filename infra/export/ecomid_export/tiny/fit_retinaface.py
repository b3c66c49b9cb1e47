"""Fit the tiny RetinaFace so the tiny bundle's EVA-branch detector also finds the astronaut and nothing else.

A fixture like the SCRFD one: it memorises three images at native size.
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..images import read_rgb
from ..models.retinaface import RetinaFace
from ..retinaface_decode import blob, detect, encode_targets, torch_runner
from .fit_scrfd import ASTRONAUT_BOX, ASTRONAUT_KPS, _iou
from .random_init import enliven

STEPS = 250
POSITIVE_WEIGHT = 200.0


def fit_retinaface(images_dir: Path, widths, blocks, seed: int = 0) -> RetinaFace:
    torch.manual_seed(seed)
    # Fitted in eval mode: BatchNorm is a fixed affine map with random statistics, like the other tiny graphs.
    model = enliven(RetinaFace(widths, blocks), torch.Generator().manual_seed(seed + 1000))
    face = read_rgb(images_dir / "astronaut.png")
    h, w = face.shape[:2]
    priors, loc_target, landm_target = encode_targets(ASTRONAUT_BOX, ASTRONAUT_KPS, h, w)
    box_center = np.array([(ASTRONAUT_BOX[0] + ASTRONAUT_BOX[2]) / 2 / w, (ASTRONAUT_BOX[1] + ASTRONAUT_BOX[3]) / 2 / h])
    face_size = (ASTRONAUT_BOX[2] - ASTRONAUT_BOX[0]) / w
    # Positives: priors near the face centre whose size is within a factor 2 of the face.
    positive = (np.abs(priors[:, :2] - box_center).max(axis=1) < 0.03) & (np.abs(np.log(priors[:, 2] / face_size)) < np.log(2))
    samples = [(torch.from_numpy(blob(face)), torch.from_numpy(positive), torch.from_numpy(loc_target),
                torch.from_numpy(landm_target))]
    samples += [(torch.from_numpy(blob(read_rgb(images_dir / n))), None, None, None) for n in ("coffee.png", "chelsea.png")]
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = sum(_loss(model, *sample) for sample in samples)
        loss.backward()
        optimizer.step()
    check_retinaface_fixture(model, images_dir)
    return model


def _loss(model, image, positive, loc_target, landm_target):
    loc, conf, landms = (t[0] for t in model(image))
    labels = torch.zeros(conf.shape[0], dtype=torch.int64) if positive is None else positive.long()
    weights = torch.tensor([1.0, POSITIVE_WEIGHT])
    # conf is already softmaxed (test phase); the log gives the cross-entropy.
    total = F.nll_loss(torch.log(conf.clamp_min(1e-8)), labels, weight=weights, reduction="sum") / 50.0
    if positive is not None:
        total = total + 10.0 * (F.smooth_l1_loss(loc[positive], loc_target[positive]) +
                                F.smooth_l1_loss(landms[positive], landm_target[positive]))
    return total


def check_retinaface_fixture(model, images_dir: Path) -> None:
    run = torch_runner(model)
    boxes, points = detect(run, read_rgb(images_dir / "astronaut.png"))
    if len(boxes) != 1 or _iou(boxes[0, :4], ASTRONAUT_BOX) < 0.7 or np.abs(points[0] - np.array(ASTRONAUT_KPS)).max() > 12:
        raise RuntimeError(f"tiny RetinaFace fit failed on astronaut.png: {boxes} {points}")
    for name in ("coffee.png", "chelsea.png"):
        found, _ = detect(run, read_rgb(images_dir / name))
        if len(found):
            raise RuntimeError(f"tiny RetinaFace fit failed: {len(found)} faces in {name}")
