"""Face crops from 5 keypoints: least-squares similarity (Umeyama, no reflection, as insightface's face_align) + cv2.warpAffine."""

import cv2
import numpy as np

from ..manifest import ARCFACE_TEMPLATE, FFHQ_TEMPLATE


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """2x3 matrix M minimising |M [source; 1] - target|^2 over rotation, uniform scale and translation."""
    src, dst = source.astype(np.float64), target.astype(np.float64)
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(covariance)
    d = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1, 1] = -1
    rotation = u @ d @ vt
    scale = np.trace(np.diag(s) @ d) / src_c.var(0).sum()
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def arcface_crop(image_rgb: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    matrix = similarity_transform(keypoints, np.array(ARCFACE_TEMPLATE))
    return cv2.warpAffine(image_rgb, matrix, (112, 112), borderValue=0.0), matrix


def ffhq_crop(image_rgb: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference estimates with LMEDS from RetinaFace points; we use Umeyama on SCRFD's (one detection), whose
    effect on the ID tokens infra/bench/eva_crop_landmarks.py measures."""
    matrix = similarity_transform(keypoints, np.array(FFHQ_TEMPLATE))
    return warp_ffhq(image_rgb, matrix), matrix


def warp_ffhq(image_rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    # Border BGR (135, 133, 132) = RGB (132, 133, 135).
    return cv2.warpAffine(image_rgb, matrix, (512, 512), borderMode=cv2.BORDER_CONSTANT, borderValue=(132, 133, 135))
