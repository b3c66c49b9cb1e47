"""InstantID's draw_kps (as EcomID's node copies it), then the ComfyUI hint resize (centre crop + nearest-exact)."""

import math

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..manifest import KEYPOINT_COLORS

STICKS = ((0, 2), (1, 2), (3, 2), (4, 2))


def draw_keypoints(height: int, width: int, keypoints: np.ndarray) -> np.ndarray:
    canvas = np.zeros((height, width, 3), dtype=np.float64)
    for end, nose in STICKS:
        x, y = keypoints[[end, nose], 0], keypoints[[end, nose], 1]
        length = math.hypot(x[0] - x[1], y[0] - y[1])
        angle = math.degrees(math.atan2(y[0] - y[1], x[0] - x[1]))
        polygon = cv2.ellipse2Poly((int(np.mean(x)), int(np.mean(y))), (int(length / 2), 4), int(angle), 0, 360, 1)
        canvas = cv2.fillConvexPoly(canvas, polygon, KEYPOINT_COLORS[end])
    canvas = (canvas * 0.6).astype(np.uint8)
    for (x, y), color in zip(keypoints, KEYPOINT_COLORS):
        canvas = cv2.circle(canvas, (int(x), int(y)), 10, color, -1)
    return canvas


def hint_for_output(keypoint_image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Centre-crop to the output aspect ratio, resize nearest-exact: uint8 [height, width, 3]."""
    h, w = keypoint_image.shape[:2]
    if w * height > h * width:  # too wide
        crop_w = round(h * width / height)
        x0 = (w - crop_w) // 2
        keypoint_image = keypoint_image[:, x0: x0 + crop_w]
    elif w * height < h * width:
        crop_h = round(w * height / width)
        y0 = (h - crop_h) // 2
        keypoint_image = keypoint_image[y0: y0 + crop_h]
    tensor = torch.from_numpy(np.ascontiguousarray(keypoint_image)).permute(2, 0, 1)[None].float()
    resized = F.interpolate(tensor, size=(height, width), mode="nearest-exact")
    return resized[0].permute(1, 2, 0).round().to(torch.uint8).numpy()
