"""The committed tiny bundle: manifest, file hashes, and ONNX graphs that reproduce the PyTorch references."""

import numpy as np
import pytest
import torch

from bundle_io import Bundle
from ecomid_export.face_detection import detect
from ecomid_export.manifest import validate_manifest
from ecomid_export.reference.run import PARAMETERS
from ecomid_export.reference.schedulers import make_scheduler
from ecomid_export.tensor_io import sha256_file
from ecomid_export.tiny.fit_retinaface import detect_retinaface
from ecomid_export.images import read_rgb

# ONNX Runtime vs PyTorch on the same weights: float32 reordering only.
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def bundle(tiny_bundle):
    return Bundle(tiny_bundle)


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
    assert total < 21e6


def _scrfd(bundle):
    return lambda blob: bundle.run("scrfd", input=blob)


def test_scrfd_fixture_finds_the_astronaut_face_as_the_reference_did(bundle, images_dir):
    boxes, points, size = detect(_scrfd(bundle), read_rgb(images_dir / "astronaut.png"))
    assert len(boxes) == 1 and size == 640
    np.testing.assert_allclose(boxes[0], bundle.ref("face_box"), atol=1e-3)
    np.testing.assert_allclose(points[0], bundle.ref("face_keypoints"), atol=1e-3)


@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png"])
def test_scrfd_fixture_finds_no_face_in_the_other_images(bundle, images_dir, name):
    boxes, _, size = detect(_scrfd(bundle), read_rgb(images_dir / name))
    assert len(boxes) == 0 and size == 0


def _retinaface(bundle):
    return lambda blob: bundle.run("retinaface", input=blob)


def test_retinaface_fixture_finds_the_astronaut_face_as_the_reference_did(bundle, images_dir):
    boxes, points = detect_retinaface(_retinaface(bundle), read_rgb(images_dir / "astronaut.png"))
    assert len(boxes) == 1
    np.testing.assert_allclose(boxes, bundle.ref("retinaface_boxes"), atol=1e-2)
    np.testing.assert_allclose(points, bundle.ref("retinaface_landmarks"), atol=1e-2)
    # The same face as SCRFD's, within the fixture's fit.
    assert np.abs(points[0] - bundle.ref("face_keypoints")).max() < 12


@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png"])
def test_retinaface_fixture_finds_no_face_in_the_other_images(bundle, images_dir, name):
    boxes, _ = detect_retinaface(_retinaface(bundle), read_rgb(images_dir / name))
    assert len(boxes) == 0


def test_arcface_resampler_and_id_encoder_reproduce_the_references(bundle):
    crop = bundle.ref("arcface_crop").astype(np.float32)
    embedding = bundle.run("arcface", input=((crop - 127.5) / 127.5).transpose(2, 0, 1)[None])[0]
    np.testing.assert_allclose(embedding, bundle.ref("arcface_embedding"), atol=TOLERANCE)
    tokens = bundle.run("resampler", arcface_embedding=embedding[:, None])[0]
    np.testing.assert_allclose(tokens, bundle.ref("resampler_tokens"), atol=TOLERANCE)
    uncond = bundle.run("resampler", arcface_embedding=np.zeros((1, 1, 512), np.float32))[0]
    np.testing.assert_allclose(uncond, bundle.constant("uncond_resampler_tokens"), atol=TOLERANCE)
    ffhq = bundle.ref("ffhq_crop").astype(np.float32) / 255.0
    eva_input = bundle.run("id_prep", aligned_face=ffhq.transpose(2, 0, 1)[None].copy())[0]
    id_tokens = bundle.run("id_encoder", eva_input=eva_input, arcface_embedding=embedding)[0]
    np.testing.assert_allclose(id_tokens, bundle.ref("id_tokens"), atol=TOLERANCE)


def test_text_encoders_reproduce_the_references(bundle):
    ids_l = bundle.ref("input_ids_clip_l").astype(np.int64)
    ids_g = bundle.ref("input_ids_clip_g").astype(np.int64)
    hidden_l = bundle.run("clip_l", input_ids=ids_l)[0]
    hidden_g, text_embeds = bundle.run("clip_g", input_ids=ids_g)
    np.testing.assert_allclose(np.concatenate([hidden_l, hidden_g], -1), bundle.ref("encoder_hidden_states"), atol=TOLERANCE)
    np.testing.assert_allclose(text_embeds, bundle.ref("text_embeds"), atol=TOLERANCE)


def test_tokenizer_is_the_real_clip_vocabulary(bundle):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(bundle.folder / bundle.manifest["tokenizer"]["file"]))
    assert tokenizer.get_vocab_size() == 49408
    assert tokenizer.encode("a photo of a woman").ids == [49406, 320, 1125, 539, 320, 2308, 49407]
    assert bundle.ref("input_ids_clip_l")[0, :3].tolist() == [49406, 320, 5352]  # "a portrait"


@pytest.mark.parametrize("sampler", PARAMETERS["samplers"])
def test_onnx_denoising_loop_reproduces_the_reference_latents_and_image(bundle, sampler):
    """What the TypeScript pipeline does, with diffusers' scheduler: every step's latents match PyTorch's."""
    p, m = PARAMETERS, bundle.manifest
    scheduler = make_scheduler(sampler)
    scheduler.set_timesteps(p["steps"])
    latents = torch.from_numpy(bundle.ref("initial_noise").copy()) * scheduler.init_noise_sigma
    padding = m["model"]["id_padding_tokens"][p["id_mode"]]
    width = m["model"]["cross_attention_dim"]
    pad = lambda t: np.concatenate([t, np.zeros((1, padding, width), np.float32)], axis=1)  # noqa: E731
    hint = bundle.ref("control_image").astype(np.float32).transpose(2, 0, 1)[None] / 255.0
    feeds = {
        "encoder_hidden_states": bundle.ref("encoder_hidden_states"), "text_embeds": bundle.ref("text_embeds"),
        "time_ids": np.array([[p["height"], p["width"], 0, 0, p["height"], p["width"]]] * 2, np.float32),
        "id_tokens": np.concatenate([pad(bundle.ref("id_tokens")), pad(bundle.constant("uncond_id_tokens"))]),
        "id_weight": np.full(2, p["identity_weight"], np.float32), "id_mode": np.full(2, 2, np.int64),
        "control_image": np.repeat(hint, 2, axis=0),
        "face_tokens": np.concatenate([bundle.ref("resampler_tokens"), bundle.constant("uncond_resampler_tokens")]),
        "cn_scale": np.full(2, p["structure_strength"], np.float32),
    }
    for i, t in enumerate(scheduler.timesteps):
        model_input = scheduler.scale_model_input(torch.cat([latents] * 2), t).numpy()
        eps = bundle.run("denoiser", sample=model_input, timestep=np.full(2, float(t), np.float32), **feeds)[0]
        guided = eps[1:] + p["guidance"] * (eps[:1] - eps[1:])
        latents = scheduler.step(torch.from_numpy(guided), t, latents, return_dict=False)[0]
        reference = bundle.ref(f"{sampler}_latents_step{i}")
        np.testing.assert_allclose(latents.numpy(), reference, atol=TOLERANCE * max(1.0, np.abs(reference).max()))
    image = bundle.run("vae_decoder", latents=(latents / m["preprocessing"]["vae"]["scaling_factor"]).numpy())[0]
    np.testing.assert_allclose(image, bundle.ref(f"{sampler}_decoded"), atol=1e-3)
