"""Does the faithful EVA crop change the ID tokens enough to matter?

PuLID and EcomID crop the face for EVA-CLIP with facexlib: RetinaFace-R50 at the photo's own size (confidence
0.97, NMS 0.4, the face nearest the image centre), then cv2.estimateAffinePartial2D(method=LMEDS) to the FFHQ-512
template. The GPU function instead reuses the one SCRFD detection every other crop comes from, with a
least-squares similarity (Umeyama). This script runs both crops on the same photos with the published weights
and reports, per photo:

- the landmark shift: |RetinaFace landmark - SCRFD keypoint| in source pixels, each of the five points, and the
  largest as a fraction of SCRFD's eye distance;
- the crop shift: how far, in pixels of the 512x512 crop, the faithful crop's content sits from today's (the
  largest over the crop's corners, where an affine difference is largest), plus the scale ratio and rotation
  between the two matrices, and the part of the shift that LMEDS alone makes (LMEDS vs Umeyama on the same
  RetinaFace landmarks);
- the ID tokens (id_prep + id_encoder in fp32, the same ArcFace embedding for both crops): cosine similarity and
  angle between today's and the faithful crop's tokens (flattened, and the worst single token), and for
  RetinaFace landmarks with Umeyama (what re-adding only the detector would give).

Materiality, stated: the faithful crop changes the tokens materially when their angle exceeds a tenth of the
angle between the tokens of two different photos of the same person (the closest such pair given with
--same-person). Why that scale: which photo a user sends (the API takes up to four of one person and averages
their tokens) is a choice the product already treats as "the same identity", so the spread between same-person
photos is the size of change that is not a change of who is generated; angles obey the triangle inequality, so a
crop change of angle a moves the tokens' angle to any other photo of the person by at most a. A tenth keeps the
crop an order of magnitude below that freely made choice; the ratio is printed so another factor can be applied.
Below any judgement lies the floor: the change the fp16 id_encoder a real bundle ships already makes to today's
tokens (fp16 against fp32, same crop). A change within that floor is immaterial whatever the photos; above it,
without same-person photos, the verdict is "undecided".

Decision: material on any photo -> keep RetinaFace + LMEDS as a bundle option; immaterial on every compared
photo -> SCRFD's keypoints are enough.

Usage, with the published files (the same arguments as the exporter takes):

  infra/export/.venv/bin/python infra/bench/eva_crop_landmarks.py \\
    --facexlib /weights/facexlib --antelopev2 /weights/antelopev2 \\
    --eva-clip /weights/EVA02_CLIP_L_336_psz14_s6B.pt --pulid /weights/ip-adapter_pulid_sdxl_fp16.safetensors \\
    [--images test/fixtures/images /photos ...] [--same-person /photos/person-a --same-person /photos/person-b] \\
    [--json report.json]

--widths tiny reads the miniature published-layout files of `python -m ecomid_export.published` (the test does).
"""

import argparse
import copy
import itertools
import json
import math
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "infra" / "export"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

from ecomid_export import retinaface_decode  # noqa: E402
from ecomid_export.config import REAL, TINY  # noqa: E402
from ecomid_export.face_detection import detect as detect_scrfd  # noqa: E402
from ecomid_export.images import read_rgb  # noqa: E402
from ecomid_export.manifest import FFHQ_TEMPLATE  # noqa: E402
from ecomid_export.models.half_precision import HalfPrecision  # noqa: E402
from ecomid_export.models.id_encoder import IdEncoder  # noqa: E402
from ecomid_export.models.id_prep import IdPrep  # noqa: E402
from ecomid_export.real.antelopev2 import FILES as ANTELOPEV2_FILES  # noqa: E402
from ecomid_export.real.loaders import load_eva, load_facexlib_detector, load_facexlib_parser, load_pulid  # noqa: E402
from ecomid_export.reference.align import arcface_crop, ffhq_crop, similarity_transform, warp_ffhq  # noqa: E402

MATERIAL_FRACTION_OF_SAME_PERSON = 0.1
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
CROP_SIZE = 512


def photos_in(paths: list[Path]) -> list[Path]:
    found = []
    for path in paths:
        found += sorted(p for p in path.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES) if path.is_dir() else [path]
    return list(dict.fromkeys(found))


class Models:
    """The published weights, loaded by the exporter's strict loaders; ONNX files run as insightface runs them."""

    def __init__(self, args):
        arch = TINY if args.widths == "tiny" else REAL
        self.retinaface = load_facexlib_detector(args.facexlib, arch).eval()
        self.id_prep = IdPrep(load_facexlib_parser(args.facexlib, arch)).eval()
        self.id_encoder = IdEncoder(arch)
        load_pulid(args.pulid, None, self.id_encoder.mlp)
        load_eva(args.eva_clip, self.id_encoder.eva)
        self.id_encoder.eval()
        # What a real bundle ships: the id_encoder graph in fp16 behind fp32 inputs and outputs.
        self.id_encoder_fp16 = HalfPrecision(copy.deepcopy(self.id_encoder)).eval()
        onnx_file = lambda graph: str(args.antelopev2 / ANTELOPEV2_FILES[graph])  # noqa: E731
        self.scrfd = ort.InferenceSession(onnx_file("scrfd"), providers=["CPUExecutionProvider"])
        self.arcface = ort.InferenceSession(onnx_file("arcface"), providers=["CPUExecutionProvider"])

    def detect_scrfd(self, image):
        name = self.scrfd.get_inputs()[0].name
        return detect_scrfd(lambda blob: self.scrfd.run(None, {name: blob}), image)

    def arcface_embedding(self, image, keypoints) -> torch.Tensor:
        crop, _ = arcface_crop(image, keypoints)
        blob = ((crop.astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]
        return torch.from_numpy(self.arcface.run(None, {self.arcface.get_inputs()[0].name: blob})[0])

    @torch.no_grad()
    def id_tokens(self, crop, embedding, half: bool = False) -> np.ndarray:
        eva_input = self.id_prep(torch.from_numpy(crop.astype(np.float32) / 255.0).permute(2, 0, 1)[None])
        encoder = self.id_encoder_fp16 if half else self.id_encoder
        return encoder(eva_input, embedding)[0].double().numpy()


def lmeds_matrix(landmarks: np.ndarray) -> np.ndarray:
    """facexlib's align_warp_face: float32 landmarks, the float64 template, LMEDS."""
    matrix, _ = cv2.estimateAffinePartial2D(landmarks.astype(np.float32), np.array(FFHQ_TEMPLATE), method=cv2.LMEDS)
    if matrix is None:
        raise ValueError(f"LMEDS found no similarity for landmarks {landmarks.tolist()}")
    return matrix


def crop_shift(today: np.ndarray, other: np.ndarray) -> float:
    """Largest distance, in crop pixels, between where a source point lands in today's crop and in the other."""
    square = lambda m: np.vstack([m, [0.0, 0.0, 1.0]])  # noqa: E731
    other_to_today = square(today) @ np.linalg.inv(square(other))
    corners = np.array([[0, 0, 1], [CROP_SIZE, 0, 1], [0, CROP_SIZE, 1], [CROP_SIZE, CROP_SIZE, 1]], np.float64).T
    return float(np.linalg.norm((other_to_today @ corners - corners)[:2], axis=0).max())


def scale_and_rotation(matrix: np.ndarray) -> tuple[float, float]:
    return math.sqrt(abs(np.linalg.det(matrix[:, :2]))), math.degrees(math.atan2(matrix[1, 0], matrix[0, 0]))


def angle_degrees(a: np.ndarray, b: np.ndarray) -> float:
    """The angle between two vectors, from the chord of their unit vectors (exact near 0, where acos is not)."""
    a, b = a.ravel() / np.linalg.norm(a), b.ravel() / np.linalg.norm(b)
    return math.degrees(2.0 * math.asin(min(1.0, float(np.linalg.norm(a - b)) / 2.0)))


def token_similarity(a: np.ndarray, b: np.ndarray) -> dict:
    """[tokens, width] pairs: the whole (flattened) and the token that moved most."""
    per_token = [angle_degrees(a[t], b[t]) for t in range(a.shape[0])]
    worst = int(np.argmax(per_token))
    cosine = float(a.ravel() @ b.ravel()) / float(np.linalg.norm(a) * np.linalg.norm(b))
    return {"cosine": cosine, "angle_deg": angle_degrees(a, b), "worst_token": worst,
            "worst_token_angle_deg": per_token[worst]}


def box_iou(a, b) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def same_face(retina_boxes: np.ndarray, scrfd_box: np.ndarray, scrfd_keypoints: np.ndarray) -> int | None:
    """The RetinaFace detection of SCRFD's face: among the boxes holding SCRFD's nose, the best overlap."""
    nose_x, nose_y = scrfd_keypoints[2]
    holding = [i for i, b in enumerate(retina_boxes) if b[0] <= nose_x <= b[2] and b[1] <= nose_y <= b[3]]
    return max(holding, key=lambda i: box_iou(retina_boxes[i], scrfd_box)) if holding else None


def nearest_centre(boxes: np.ndarray, height: int, width: int) -> int:
    """facexlib's get_center_face: the box whose centre is nearest the image's."""
    centres = (boxes[:, :2] + boxes[:, 2:4]) / 2
    return int(np.argmin(np.linalg.norm(centres - np.array([width / 2, height / 2]), axis=1)))


def measure(models: Models, path: Path) -> tuple[dict, np.ndarray | None]:
    """One photo's record, and today's ID tokens (None without an SCRFD face)."""
    image = read_rgb(path)
    height, width = image.shape[:2]
    record = {"photo": str(path), "width": width, "height": height}
    boxes, points, det_size = models.detect_scrfd(image)
    if not len(boxes):
        return record | {"status": "no SCRFD face"}, None
    largest = int(np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])))  # as the GPU function takes
    box, keypoints = boxes[largest], points[largest]
    embedding = models.arcface_embedding(image, keypoints)
    today_crop, today_matrix = ffhq_crop(image, keypoints)
    today = models.id_tokens(today_crop, embedding)
    record["scrfd"] = {"box": box[:4].tolist(), "score": float(box[4]), "keypoints": keypoints.tolist(),
                       "detection_size": det_size}
    record["fp16_floor"] = token_similarity(today, models.id_tokens(today_crop, embedding, half=True))

    retina_boxes, retina_points = retinaface_decode.detect(retinaface_decode.torch_runner(models.retinaface), image)
    if not len(retina_boxes):
        return record | {"status": "no RetinaFace face"}, today
    match = same_face(retina_boxes, box, keypoints)
    if match is None:
        return record | {"status": "no RetinaFace face at SCRFD's face", "retinaface_faces": len(retina_boxes)}, today
    landmarks = retina_points[match]
    record["retinaface"] = {"box": retina_boxes[match, :4].tolist(), "score": float(retina_boxes[match, 4]),
                            "landmarks": landmarks.tolist(), "faces": len(retina_boxes),
                            "facexlib_takes_this_face": nearest_centre(retina_boxes, height, width) == match}

    shifts = np.linalg.norm(landmarks - keypoints, axis=1)
    eye_distance = float(np.linalg.norm(keypoints[1] - keypoints[0]))
    record["landmark_shift_px"] = {"per_point": shifts.tolist(), "max": float(shifts.max()), "mean": float(shifts.mean()),
                                   "max_over_eye_distance": float(shifts.max()) / eye_distance}

    faithful_matrix = lmeds_matrix(landmarks)
    umeyama_matrix = similarity_transform(landmarks, np.array(FFHQ_TEMPLATE))
    (today_scale, today_rotation), (faithful_scale, faithful_rotation) = map(scale_and_rotation, (today_matrix, faithful_matrix))
    record["crop"] = {"today_matrix": today_matrix.tolist(), "faithful_matrix": faithful_matrix.tolist(),
                      "matrix_max_abs_difference": float(np.abs(faithful_matrix - today_matrix).max()),
                      "shift_px": crop_shift(today_matrix, faithful_matrix), "scale_ratio": faithful_scale / today_scale,
                      "rotation_deg": faithful_rotation - today_rotation,
                      "lmeds_vs_umeyama_shift_px": crop_shift(umeyama_matrix, faithful_matrix)}

    faithful = models.id_tokens(warp_ffhq(image, faithful_matrix), embedding)
    retina_umeyama = models.id_tokens(warp_ffhq(image, umeyama_matrix), embedding)
    record["id_tokens"] = {"faithful": token_similarity(today, faithful),
                           "retinaface_umeyama": token_similarity(today, retina_umeyama)}
    return record | {"status": "compared"}, today


def same_person_pairs(groups: list[Path], tokens: dict[str, np.ndarray]) -> list[dict]:
    pairs = []
    for group in groups:
        members = [str(p) for p in photos_in([group]) if tokens.get(str(p)) is not None]
        for a, b in itertools.combinations(members, 2):
            pairs.append({"a": a, "b": b} | token_similarity(tokens[a], tokens[b]))
    return pairs


def judge(records: list[dict], pairs: list[dict]) -> dict:
    """Each compared photo's verdict, then the decision (see the module's docstring for the rule and its reasons)."""
    nonzero = [p["angle_deg"] for p in pairs if p["angle_deg"] > 0]
    same_person = min(nonzero) if nonzero else None
    threshold = None if same_person is None else MATERIAL_FRACTION_OF_SAME_PERSON * same_person
    for r in records:
        if r["status"] != "compared":
            continue
        angle, floor = r["id_tokens"]["faithful"]["angle_deg"], r["fp16_floor"]["angle_deg"]
        if angle <= floor:
            r["verdict"] = "immaterial (within the fp16 floor)"
        elif threshold is None:
            r["verdict"] = "undecided (above the fp16 floor; no same-person photos to judge against)"
        else:
            r["ratio_to_same_person"] = angle / same_person
            r["verdict"] = "material" if angle > threshold else "immaterial"
    verdicts = [r["verdict"] for r in records if "verdict" in r]
    if not verdicts:
        decision = "no comparison: no photo had a face both detectors found"
    elif "material" in verdicts:
        decision = "material: keep RetinaFace + LMEDS as a bundle option"
    elif any(v.startswith("undecided") for v in verdicts):
        decision = "undecided: run again with --same-person folders"
    else:
        decision = "immaterial: SCRFD's keypoints are enough"
    return {"rule": f"material when the faithful crop's ID-token angle exceeds {MATERIAL_FRACTION_OF_SAME_PERSON} x the "
                    "smallest same-person angle; immaterial at or below the fp16 floor",
            "same_person_angle_deg": same_person, "threshold_angle_deg": threshold, "decision": decision}


def summary_lines(report: dict) -> list[str]:
    lines = [f"{'photo':<28} {'landmarks max px (/eyes)':>24} {'crop shift px':>13} {'LMEDS part':>10} "
             f"{'token angle':>11} {'Umeyama':>8} {'fp16':>8}  verdict"]
    for r in report["photos"]:
        name = Path(r["photo"]).name[:28]
        if r["status"] != "compared":
            lines.append(f"{name:<28} {r['status']}")
            continue
        shift, crop, tokens = r["landmark_shift_px"], r["crop"], r["id_tokens"]
        lines.append(f"{name:<28} {shift['max']:>15.2f} ({shift['max_over_eye_distance']:.3f}) {crop['shift_px']:>13.2f} "
                     f"{crop['lmeds_vs_umeyama_shift_px']:>10.2f} {tokens['faithful']['angle_deg']:>10.4f}° "
                     f"{tokens['retinaface_umeyama']['angle_deg']:>7.4f}° {r['fp16_floor']['angle_deg']:>7.4f}°  {r['verdict']}")
    for p in report["same_person"]:
        lines.append(f"same person: {Path(p['a']).name} / {Path(p['b']).name}: {p['angle_deg']:.4f}° (cosine {p['cosine']:.6f})")
    judgement = report["judgement"]
    lines += [f"rule: {judgement['rule']}", f"decision: {judgement['decision']}"]
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facexlib", type=Path, required=True, help="folder with detection_Resnet50_Final.pth and parsing_bisenet.pth")
    parser.add_argument("--antelopev2", type=Path, required=True, help="folder with scrfd_10g_bnkps.onnx and glintr100.onnx")
    parser.add_argument("--eva-clip", type=Path, required=True, help="EVA02_CLIP_L_336_psz14_s6B.pt")
    parser.add_argument("--pulid", type=Path, required=True, help="PuLID v1 SDXL weights (its image_proj, the IDEncoder)")
    parser.add_argument("--images", type=Path, nargs="+", default=[REPO_ROOT / "test" / "fixtures" / "images"],
                        help="photos, or folders of photos (default: test/fixtures/images)")
    parser.add_argument("--same-person", type=Path, action="append", default=[],
                        help="a folder of photos of one person (repeatable): the materiality baseline")
    parser.add_argument("--widths", choices=("real", "tiny"), default="real",
                        help="tiny: the miniature files of python -m ecomid_export.published (tests)")
    parser.add_argument("--json", type=Path, help="write the whole report here")
    args = parser.parse_args(argv)

    models = Models(args)
    records, tokens = [], {}
    for photo in photos_in(args.images + args.same_person):
        record, tokens[str(photo)] = measure(models, photo)
        records.append(record)
    pairs = same_person_pairs(args.same_person, tokens)
    report = {"photos": records, "same_person": pairs, "judgement": judge(records, pairs)}
    print("\n".join(summary_lines(report)))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
