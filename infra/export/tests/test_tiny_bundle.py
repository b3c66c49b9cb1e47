"""A tiny bundle: manifest, file hashes, a fixture detector that keeps its promise, and ONNX graphs that reproduce
its PyTorch references. Every check runs on the committed bundle and on a fresh rebuild (conftest.py).

Bounds: onnxruntime here against PyTorch wherever the references were made differ by float32 rounding only,
bounded from each graph's rounding count (ecomid_export/float_error.py, counts in reference/index.json); a
chain of graphs adds its counts; classifier-free guidance scales its two rows' errors by |1 - g| + |g|.
"""

import numpy as np
import pytest
import torch

from bounds import assert_within, chain_bound
from bundle_io import Bundle, reference_denoiser_feeds
from ecomid_export.face_detection import DET_SIZES, detect, letterbox
from ecomid_export.float_error import guidance_amplification
from ecomid_export.images import read_rgb
from ecomid_export.manifest import validate_manifest
from ecomid_export.models.scrfd import STRIDES
from ecomid_export.reference.run import PARAMETERS
from ecomid_export.reference.schedulers import make_scheduler
from ecomid_export.tensor_io import sha256_file
from ecomid_export.tiny.fit_scrfd import ASTRONAUT_BOX, ASTRONAUT_KPS, _iou

CFG_AMPLIFICATION = guidance_amplification(PARAMETERS["guidance"])


@pytest.fixture(scope="module")
def bundle(any_tiny_bundle):
    return Bundle(any_tiny_bundle)


def _bound(bundle, runs: dict[str, int], amplification: float = 1.0) -> float:
    return chain_bound(bundle.reference_index["arithmetic"], runs, amplification)


def test_manifest_is_valid_and_says_it_is_a_fixture(bundle):
    validate_manifest(bundle.manifest)
    assert bundle.manifest["fixture"] is True
    assert "FIXTURE" in bundle.manifest["graphs"]["scrfd"]["notes"]
    assert "non-commercial research" in bundle.manifest["description"]


def test_every_file_matches_its_hash_and_size(bundle):
    for f in bundle.manifest["files"]:
        path = bundle.folder / f["path"]
        assert path.stat().st_size == f["bytes"], f["path"]
        assert sha256_file(path) == f["sha256"], f["path"]


def test_bundle_stays_small(bundle):
    total = sum(p.stat().st_size for p in bundle.folder.rglob("*") if p.is_file())
    # 17 MB graphs and 1.3 MB references before issue 14; then 8 MB for the gated denoiser with two tiny
    # ControlNets (a UNet and three ControlNets at tiny width, weights embedded) and 1.9 MB for the ControlNet jobs'
    # references (0.65 MB of it the mask and edge map at their photos' sizes): 27.6 MB.
    assert total < 29e6


def test_scrfd_fixture_finds_the_astronaut_face_as_its_reference_did(bundle, images_dir):
    image = read_rgb(images_dir / "astronaut.png")
    outputs = {}

    def run(blob):
        outputs[blob.shape[-1]] = bundle.run("scrfd", input=blob)
        return outputs[blob.shape[-1]]

    boxes, points, size = detect(run, image)
    assert len(boxes) == 1 and size == DET_SIZES[0] == bundle.reference_index["detection_size"]
    # Pixels = (anchor +- output * stride) / det_scale: each stride's output error, scaled.
    det_scale = letterbox(image, size)[1]
    relative = _bound(bundle, {"scrfd": 1})
    out = outputs[size]
    pixels = max(relative * max(1.0, np.abs(out[i + 3]).max(), np.abs(out[i + 6]).max()) * s / det_scale
                 for i, s in enumerate(STRIDES))
    assert_within(boxes[0, :4], bundle.ref("face_box")[:4], pixels / max(1.0, np.abs(boxes[0, :4]).max()), "box")
    assert abs(boxes[0, 4] - bundle.ref("face_box")[4]) <= relative, "score (a sigmoid: scale 1)"
    assert np.abs(points[0] - bundle.ref("face_keypoints")).max() <= pixels, "keypoints"
    # The fixture's promise, whatever the fit: the hand-placed face.
    assert _iou(boxes[0, :4], ASTRONAUT_BOX) >= 0.7 and np.abs(points[0] - np.array(ASTRONAUT_KPS)).max() <= 12


@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png"])
def test_scrfd_fixture_finds_no_face_in_the_other_images(bundle, images_dir, name):
    boxes, _, size = detect(lambda blob: bundle.run("scrfd", input=blob), read_rgb(images_dir / name))
    assert len(boxes) == 0 and size == 0


def test_arcface_resampler_and_id_encoder_reproduce_the_references(bundle):
    crop = bundle.ref("arcface_crop").astype(np.float32)
    embedding = bundle.run("arcface", input=((crop - 127.5) / 127.5).transpose(2, 0, 1)[None])[0]
    assert_within(embedding, bundle.ref("arcface_embedding"), _bound(bundle, {"arcface": 1}), "embedding")
    tokens = bundle.run("resampler", arcface_embedding=embedding[:, None])[0]
    assert_within(tokens, bundle.ref("resampler_tokens"), _bound(bundle, {"arcface": 1, "resampler": 1}), "resampler")
    uncond = bundle.run("resampler", arcface_embedding=np.zeros((1, 1, 512), np.float32))[0]
    assert_within(uncond, bundle.constant("uncond_resampler_tokens"), _bound(bundle, {"resampler": 1}), "uncond")
    ffhq = bundle.ref("ffhq_crop").astype(np.float32) / 255.0
    eva_input = bundle.run("id_prep", aligned_face=ffhq.transpose(2, 0, 1)[None].copy())[0]
    id_tokens = bundle.run("id_encoder", eva_input=eva_input, arcface_embedding=embedding)[0]
    assert_within(id_tokens, bundle.ref("id_tokens"), _bound(bundle, {"arcface": 1, "id_prep": 1, "id_encoder": 1}), "id tokens")


def test_text_encoders_reproduce_the_references(bundle):
    ids_l = bundle.ref("input_ids_clip_l").astype(np.int64)
    ids_g = bundle.ref("input_ids_clip_g").astype(np.int64)
    hidden_l = bundle.run("clip_l", input_ids=ids_l)[0]
    hidden_g, text_embeds = bundle.run("clip_g", input_ids=ids_g)
    width_l = hidden_l.shape[-1]
    reference = bundle.ref("encoder_hidden_states")
    assert_within(hidden_l, reference[..., :width_l], _bound(bundle, {"clip_l": 1}), "clip_l")
    assert_within(hidden_g, reference[..., width_l:], _bound(bundle, {"clip_g": 1}), "clip_g")
    assert_within(text_embeds, bundle.ref("text_embeds"), _bound(bundle, {"clip_g": 1}), "text_embeds")


def test_tokenizer_is_the_real_clip_vocabulary(bundle):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(bundle.folder / bundle.manifest["tokenizer"]["file"]))
    assert tokenizer.get_vocab_size() == 49408
    assert tokenizer.encode("a photo of a woman").ids == [49406, 320, 1125, 539, 320, 2308, 49407]
    assert bundle.ref("input_ids_clip_l")[0, :3].tolist() == [49406, 320, 5352]  # "a portrait"


def _denoise(bundle, sampler: str, guidance: float):
    """What the TypeScript pipeline does, with diffusers' scheduler, from the references' conditioning:
    the latents after every scheduler step, then the decoded image."""
    p, m = PARAMETERS, bundle.manifest
    scheduler = make_scheduler(sampler)
    scheduler.set_timesteps(p["steps"])
    latents = torch.from_numpy(bundle.ref("initial_noise").copy()) * scheduler.init_noise_sigma
    feeds = reference_denoiser_feeds(bundle, p)
    steps = []
    for t in scheduler.timesteps:
        model_input = scheduler.scale_model_input(torch.cat([latents] * 2), t).numpy()
        eps = bundle.run("denoiser", sample=model_input, timestep=np.full(2, float(t), np.float32), **feeds)[0]
        guided = eps[1:] + guidance * (eps[:1] - eps[1:])
        latents = scheduler.step(torch.from_numpy(guided), t, latents, return_dict=False)[0]
        steps.append(latents.numpy())
    image = bundle.run("vae_decoder", latents=(latents / m["preprocessing"]["vae"]["scaling_factor"]).numpy())[0]
    return steps, image


@pytest.mark.parametrize("sampler", PARAMETERS["samplers"])
def test_onnx_denoising_loop_reproduces_the_reference_latents_and_image(bundle, sampler):
    steps, image = _denoise(bundle, sampler, PARAMETERS["guidance"])
    for i, latents in enumerate(steps):  # one model evaluation per scheduler step; errors carry over
        bound = _bound(bundle, {"denoiser": i + 1}, CFG_AMPLIFICATION)
        assert_within(latents, bundle.ref(f"{sampler}_latents_step{i}"), bound, f"latents after step {i}")
    bound = _bound(bundle, {"denoiser": len(steps), "vae_decoder": 1}, CFG_AMPLIFICATION)
    assert_within(image, bundle.ref(f"{sampler}_decoded"), bound, "decoded image")


def test_the_loop_bound_refuses_a_guidance_ten_percent_off(bundle):
    """Loose enough for any CPU's rounding, tight enough for a mistake (on random weights, guidance moves little)."""
    sampler = "dpm_2_karras"
    steps, _ = _denoise(bundle, sampler, PARAMETERS["guidance"] * 1.1)
    with pytest.raises(AssertionError, match="exceeds"):
        for i, latents in enumerate(steps):
            assert_within(latents, bundle.ref(f"{sampler}_latents_step{i}"),
                          _bound(bundle, {"denoiser": i + 1}, CFG_AMPLIFICATION), f"latents after step {i}")
