"""infra/bench/eva_crop_landmarks.py end to end on the miniature published-layout files, so it still runs the day the
real weights are at hand. Random heads find nothing reliably, so the test writes a RetinaFace whose heads ignore
the image: every stride-32 prior of the 256-pixel anchor is a face, its box the prior itself and its landmarks the
FFHQ template shrunk to that box. What the script must then report follows by arithmetic."""

import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from conftest import REPO_ROOT
from ecomid_export.manifest import FFHQ_TEMPLATE
from ecomid_export.published.facexlib import ANCHORS
from ecomid_export.retinaface_decode import VARIANCES

SCRIPT = REPO_ROOT / "infra" / "bench" / "eva_crop_landmarks.py"
FACE_LEVEL, FACE_ANCHOR, FACE_SIZE = 2, 0, 256  # stride 32, min sizes (256, 512): the first
CERTAIN = 20.0  # a logit margin whose softmax is 1 - 2e-9, far above facexlib's 0.97
# Landmarks relative to the prior's centre, in facexlib's units (variance 0.1 x prior size).
TEMPLATE_IN_BOX = (np.array(FFHQ_TEMPLATE) - 256.0) * FACE_SIZE / 512.0


def write_image_blind_detector(published_facexlib, folder):
    folder.mkdir()
    shutil.copy(published_facexlib / "parsing_bisenet.pth", folder / "parsing_bisenet.pth")
    state = torch.load(published_facexlib / "detection_Resnet50_Final.pth", weights_only=True)
    for level in range(3):
        for head in ("ClassHead", "BboxHead", "LandmarkHead"):
            state[f"module.{head}.{level}.conv1x1.weight"].zero_()
        face = level == FACE_LEVEL
        logits = [[0.0, CERTAIN] if face and a == FACE_ANCHOR else [CERTAIN, 0.0] for a in range(ANCHORS)]
        state[f"module.ClassHead.{level}.conv1x1.bias"].copy_(torch.tensor(logits).flatten())
        state[f"module.BboxHead.{level}.conv1x1.bias"].zero_()
        landmarks = np.zeros((ANCHORS, 10))
        if face:
            landmarks[FACE_ANCHOR] = (TEMPLATE_IN_BOX / (VARIANCES[0] * FACE_SIZE)).ravel()
        state[f"module.LandmarkHead.{level}.conv1x1.bias"].copy_(torch.from_numpy(landmarks).flatten())
    torch.save(state, folder / "detection_Resnet50_Final.pth")
    return folder


@pytest.fixture(scope="module")
def report(published_inputs, images_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("eva-crop")
    facexlib = write_image_blind_detector(published_inputs.facexlib, work / "facexlib")
    # A second photo of "the same person" the tiny SCRFD fixture still finds: the astronaut with pixel noise.
    person = work / "astronaut"
    person.mkdir()
    astronaut = cv2.imread(str(images_dir / "astronaut.png"))
    noisy = np.clip(astronaut + np.random.default_rng(0).normal(0, 6, astronaut.shape), 0, 255).astype(np.uint8)
    cv2.imwrite(str(person / "noisy.png"), noisy)
    shutil.copy(images_dir / "astronaut.png", person / "astronaut.png")
    out = work / "report.json"
    printed = subprocess.run([sys.executable, str(SCRIPT), "--widths", "tiny", "--facexlib", str(facexlib),
                              "--antelopev2", str(published_inputs.antelopev2), "--eva-clip", str(published_inputs.eva_clip),
                              "--pulid", str(published_inputs.pulid), "--images", str(images_dir),
                              "--same-person", str(person), "--json", str(out)],
                             check=True, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}).stdout
    return json.loads(out.read_text()) | {"printed": printed}


def _photo(report, name):
    return next(p for p in report["photos"] if p["photo"].endswith(f"/{name}"))


def test_photos_without_an_scrfd_face_are_named_and_skipped(report):
    assert _photo(report, "coffee.png")["status"] == _photo(report, "chelsea.png")["status"] == "no SCRFD face"


def test_the_retinaface_detection_is_decoded_as_facexlib_decodes_it(report):
    astronaut = _photo(report, "images/astronaut.png")
    assert astronaut["status"] == "compared"
    box, landmarks = np.array(astronaut["retinaface"]["box"]), np.array(astronaut["retinaface"]["landmarks"])
    centre = (box[:2] + box[2:]) / 2
    # float32 decoding of pixel coordinates below 1024: a few float32 ulps of 1024 (6e-5 each).
    assert np.abs(box[2:] - box[:2] - FACE_SIZE).max() < 1e-3
    assert np.abs((centre - 16) % 32).max() < 1e-3, "a stride-32 prior's centre"
    assert np.abs(landmarks - centre - TEMPLATE_IN_BOX).max() < 1e-3
    scrfd = np.array(astronaut["scrfd"]["keypoints"])
    assert np.allclose(astronaut["landmark_shift_px"]["per_point"], np.linalg.norm(landmarks - scrfd, axis=1), rtol=1e-12)


def test_lmeds_maps_the_shrunk_template_back_exactly(report):
    crop = _photo(report, "images/astronaut.png")["crop"]
    centre = np.array(_photo(report, "images/astronaut.png")["retinaface"]["box"])
    centre = (centre[:2] + centre[2:]) / 2
    # The landmarks are the template halved about the box centre: the similarity is x2 about it, no rotation.
    expected = np.array([[2.0, 0.0, 256.0 - 2 * centre[0]], [0.0, 2.0, 256.0 - 2 * centre[1]]])
    assert np.abs(np.array(crop["faithful_matrix"]) - expected).max() < 1e-2
    assert abs(crop["scale_ratio"] * np.sqrt(np.linalg.det(np.array(crop["today_matrix"])[:, :2])) - 2.0) < 1e-4
    assert crop["lmeds_vs_umeyama_shift_px"] < 1e-2  # exact points: both estimators find the same similarity
    assert crop["shift_px"] > 0


def test_id_tokens_are_compared_and_the_fp16_floor_measured(report):
    astronaut = _photo(report, "images/astronaut.png")
    for similarity in (astronaut["id_tokens"]["faithful"], astronaut["id_tokens"]["retinaface_umeyama"], astronaut["fp16_floor"]):
        assert -1.0 <= similarity["cosine"] <= 1.0 and 0.0 <= similarity["angle_deg"] <= 180.0
        assert abs(np.cos(np.radians(similarity["angle_deg"])) - similarity["cosine"]) < 1e-9
        assert similarity["worst_token_angle_deg"] >= 0.0
    assert astronaut["fp16_floor"]["angle_deg"] > 0.0  # fp16 rounds: the floor is never zero


def test_the_verdicts_follow_the_stated_rule(report):
    pairs, judgement = report["same_person"], report["judgement"]
    assert len(pairs) == 1 and pairs[0]["angle_deg"] > 0.0
    assert judgement["threshold_angle_deg"] == pytest.approx(0.1 * pairs[0]["angle_deg"], rel=1e-12)
    compared = [p for p in report["photos"] if p["status"] == "compared"]
    assert len(compared) == 3  # the astronaut, and the same-person folder's two photos
    for photo in compared:
        angle = photo["id_tokens"]["faithful"]["angle_deg"]
        if angle <= photo["fp16_floor"]["angle_deg"]:
            assert photo["verdict"].startswith("immaterial")
        else:
            assert photo["verdict"] == ("material" if angle > judgement["threshold_angle_deg"] else "immaterial")
    material = any(p["verdict"] == "material" for p in compared)
    assert judgement["decision"].startswith("material" if material else "immaterial")
    assert "decision: " + judgement["decision"] in report["printed"]
