"""Per-stage timing of the PyTorch reference pipeline on the tiny bundle; prints one JSON object.

Runs the same torch modules the bundle's graphs were exported from (ecomid_export,
imported, never copied), stage by stage as reference/run.py does, with the same
stage names as the TypeScript pipeline's `stagesMs`, so bench-pipeline.ts can set
them side by side. Policy: one warm-up run, then --runs timed runs per sampler;
the caller takes medians.

Weights: every seeded module is rebuilt from its seed (the bundle rebuild test
shows these are the bundle's weights); the SCRFD fixture is loaded from the
bundle's scrfd.onnx initializers instead of being refitted (40 s). The output image
is compared with the committed reference image, so a weight mismatch shows.

Usage: python infra/bench/reference_pipeline_timing.py --bundle bundles/tiny --image test/fixtures/images/astronaut.png
"""

import argparse
import json
import os
import resource
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "infra" / "export"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
from onnx import numpy_helper  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

from ecomid_export.config import TINY  # noqa: E402
from ecomid_export.face_detection import detect, torch_runner  # noqa: E402
from ecomid_export.models.id_attention import ID_MODES  # noqa: E402
from ecomid_export.models.scrfd import TinyScrfd  # noqa: E402
from ecomid_export.reference.align import arcface_crop, ffhq_crop  # noqa: E402
from ecomid_export.reference.keypoints import draw_keypoints, hint_for_output  # noqa: E402
from ecomid_export.reference.run import tokenize  # noqa: E402
from ecomid_export.reference.schedulers import make_scheduler  # noqa: E402
from ecomid_export.tensor_io import read_raw  # noqa: E402
from ecomid_export.tiny import components as tiny  # noqa: E402


def load_components(bundle: Path) -> dict:
    """The modules the pipeline runs; seeds as in tiny/components.py so the weights are the bundle's."""
    arch = tiny.TINY
    seeded = tiny._seeded  # noqa: SLF001 - the one place the seeds live; reusing it keeps the weights identical
    c = {
        "clip_l": seeded(1, lambda: tiny.build_clip_l(arch)),
        "clip_g": seeded(2, lambda: tiny.build_clip_g(arch)),
        "denoiser": seeded(3, lambda: tiny.Denoiser(tiny.build_unet(arch), tiny.build_identitynet(arch), arch.cross_attention_dim)),
        "vae_decoder": seeded(4, lambda: tiny.VaeDecoder(tiny.build_vae(arch))),
        "resampler": seeded(5, lambda: tiny.Resampler(arch.resampler, arch.cross_attention_dim)),
        "id_encoder": seeded(6, lambda: tiny.IdEncoder(arch)),
        "id_prep": seeded(7, lambda: tiny.IdPrep(tiny.BiSeNet(arch.bisenet_widths))),
        "arcface": seeded(8, lambda: tiny.ArcFaceResNet(arch.arcface_widths)),
        "scrfd": scrfd_from_bundle(bundle, TINY.scrfd_width),
    }
    return c


def scrfd_from_bundle(bundle: Path, width: int) -> TinyScrfd:
    """The fitted SCRFD fixture, read back from the graph (its initializers keep the state_dict names)."""
    model = TinyScrfd(width)
    graph = onnx.load(str(bundle / "graphs" / "scrfd.onnx")).graph
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    state = model.state_dict()
    missing = [k for k in state if k not in weights]
    if missing:
        raise SystemExit(f"scrfd.onnx lacks {missing[:3]}...: cannot rebuild the SCRFD fixture without refitting")
    model.load_state_dict({k: weights[k] for k in state})
    return model.eval()


@torch.no_grad()
def run_once(c: dict, consts: dict, job: dict, sampler: str, image_bytes: bytes, noise: torch.Tensor) -> tuple[dict, np.ndarray]:
    """One job, stage by stage; the stages and their boundaries follow gpu-function's EcomidPipeline.run."""
    stages: dict[str, float] = {}

    @contextmanager
    def stage(name: str):
        t0 = time.perf_counter()
        yield
        stages[name] = stages.get(name, 0.0) + (time.perf_counter() - t0) * 1000

    with stage("decode"):  # bytes in memory -> RGB, as sharp decodes the fetched bytes
        image = cv2.cvtColor(cv2.imdecode(np.frombuffer(image_bytes, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    with stage("faces"):  # detection, both crops, ArcFace embedding (the TS faces stage does all four)
        boxes, points, _ = detect(torch_runner(c["scrfd"]), image)
        largest = int(np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])))
        keypoints = points[largest]
        arc_crop, _ = arcface_crop(image, keypoints)
        ffhq, _ = ffhq_crop(image, keypoints)
        embedding = c["arcface"](torch.from_numpy((arc_crop.astype(np.float32) - 127.5) / 127.5).permute(2, 0, 1)[None])
    with stage("identity"):
        eva_input = c["id_prep"](torch.from_numpy(ffhq.astype(np.float32) / 255.0).permute(2, 0, 1)[None])
        id_tokens = c["id_encoder"](eva_input, embedding)
        face_tokens = c["resampler"](embedding[:, None])
    with stage("keypoints"):
        keypoint_image = draw_keypoints(image.shape[0], image.shape[1], keypoints)
        hint = hint_for_output(keypoint_image, job["height"], job["width"])
    with stage("text"):
        texts = (job["prompt"], job["negative_prompt"])
        ids_l = torch.cat([tokenize(consts["tokenizer"], t, consts["pads"]["clip_l"]) for t in texts])
        ids_g = torch.cat([tokenize(consts["tokenizer"], t, consts["pads"]["clip_g"]) for t in texts])
        hidden_g, text_embeds = c["clip_g"](ids_g)
        encoder_hidden_states = torch.cat([c["clip_l"](ids_l), hidden_g], dim=-1)

    # Conditioning tensors: outside any stage, as Denoiser.prepare is in the TS pipeline.
    h, w, padding = job["height"], job["width"], consts["padding"]
    pad = lambda t: torch.cat([t, torch.zeros(1, padding, t.shape[-1])], dim=1)  # noqa: E731
    fixed = (
        encoder_hidden_states, text_embeds, torch.tensor([[h, w, 0, 0, h, w]] * 2, dtype=torch.float32),
        torch.cat([pad(id_tokens), pad(consts["uncond_id"])]), torch.full((2,), job["identity_weight"]),
        torch.full((2,), ID_MODES[job["id_mode"]]),
        (torch.from_numpy(hint).permute(2, 0, 1)[None].float() / 255.0).repeat(2, 1, 1, 1),
        torch.cat([face_tokens, consts["uncond_face"]]), torch.full((2,), job["structure_strength"]),
    )
    with stage("denoise"):  # the loop of reference/run.py _sample, without writing tensors
        scheduler = make_scheduler(sampler)
        scheduler.set_timesteps(job["steps"])
        latents = noise * scheduler.init_noise_sigma
        for t in scheduler.timesteps:
            model_input = scheduler.scale_model_input(torch.cat([latents] * 2), t)
            eps = c["denoiser"](model_input, torch.full((2,), float(t)), *fixed)
            cond, uncond = eps.chunk(2)
            latents = scheduler.step(uncond + job["guidance"] * (cond - uncond), t, latents, return_dict=False)[0]
    with stage("vae"):
        decoded = c["vae_decoder"](latents / consts["scaling"])
        pixels = ((decoded.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[0].permute(1, 2, 0).numpy()
    with stage("encode"):  # PNG, as the job asks; cv2 stands in for sharp
        cv2.imencode(".png", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    with stage("similarity"):  # largest face of the output vs the reference embedding; null without a face
        out_boxes, out_points, _ = detect(torch_runner(c["scrfd"]), pixels)
        if len(out_boxes):
            crop, _ = arcface_crop(pixels, out_points[0])
            e = c["arcface"](torch.from_numpy((crop.astype(np.float32) - 127.5) / 127.5).permute(2, 0, 1)[None])
            torch.nn.functional.cosine_similarity(e, embedding)
    return stages, pixels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, default=REPO_ROOT / "bundles" / "tiny")
    parser.add_argument("--image", type=Path, default=REPO_ROOT / "test" / "fixtures" / "images" / "astronaut.png")
    parser.add_argument("--samplers", default="euler,dpm_2_karras")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads; 0 keeps torch's default")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    manifest = json.loads((args.bundle / "manifest.json").read_text())
    index = json.loads((args.bundle / "reference" / "index.json").read_text())
    job = index["parameters"]
    c = load_components(args.bundle)
    with torch.no_grad():  # constants of the weights: the TS side reads them from the bundle, untimed
        consts = {
            "tokenizer": Tokenizer.from_file(str(args.bundle / manifest["tokenizer"]["file"])),
            "pads": manifest["tokenizer"]["pad_token_id"],
            "padding": manifest["model"]["id_padding_tokens"][job["id_mode"]],
            "scaling": manifest["preprocessing"]["vae"]["scaling_factor"],
            "uncond_id": c["id_encoder"].uncond_tokens(),
            "uncond_face": c["resampler"](torch.zeros(1, 1, 512)),
        }
    entry = index["tensors"]["initial_noise"]
    noise = torch.from_numpy(read_raw(args.bundle / "reference" / entry["file"], entry["dtype"], entry["shape"]).copy())
    image_bytes = args.image.read_bytes()
    load_ms = (time.perf_counter() - t0) * 1000

    result = {"load_ms": load_ms, "threads": torch.get_num_threads(), "torch": torch.__version__,
              "python": sys.version.split()[0], "samplers": {}}
    for sampler in args.samplers.split(","):
        run_once(c, consts, job, sampler, image_bytes, noise)  # warm-up
        runs = []
        for _ in range(args.runs):
            start = time.perf_counter()
            stages, pixels = run_once(c, consts, job, sampler, image_bytes, noise)
            runs.append({"stages": stages, "total": (time.perf_counter() - start) * 1000})
        ref = index["tensors"].get(f"{sampler}_image")
        parity = None
        if ref:
            expected = read_raw(args.bundle / "reference" / ref["file"], ref["dtype"], ref["shape"])
            parity = int(np.abs(pixels.astype(np.int16) - expected.astype(np.int16)).max())
        result["samplers"][sampler] = {"runs": runs, "image_max_diff_vs_reference": parity}
    # ru_maxrss is in KiB on Linux.
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["pid"] = os.getpid()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
