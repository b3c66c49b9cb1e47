"""The tiny bundle's references for jobs with the EcomXL ControlNets: conditions as issue 14's contract states them,
and the gated ONNX denoiser reproducing each job's PyTorch latents within float32's bound (as test_tiny_bundle.py
does for the IdentityNet-only job). Runs on the committed bundle and on a fresh rebuild."""

import numpy as np
import pytest
import torch
from PIL import Image

from bounds import assert_within, chain_bound
from bundle_io import Bundle, reference_denoiser_feeds
from ecomid_export.float_error import guidance_amplification
from ecomid_export.images import read_rgb
from ecomid_export.reference.controlnet_jobs import JOBS, draw_mask, luma
from ecomid_export.reference.run import PARAMETERS
from ecomid_export.reference.schedulers import make_scheduler

CFG_AMPLIFICATION = guidance_amplification(PARAMETERS["guidance"])
GATED = "denoiser_inpaint_softedge"


@pytest.fixture(scope="module")
def bundle(any_tiny_bundle):
    return Bundle(any_tiny_bundle)


def test_luma_is_pils_convert_l():
    rgb = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    assert np.array_equal(luma(rgb), np.asarray(Image.fromarray(rgb).convert("L")))


def test_the_mask_source_is_the_drawn_ellipse_and_the_images_are_the_committed_photos(bundle, images_dir):
    product = read_rgb(images_dir / JOBS["product_image"])
    assert np.array_equal(bundle.ref("inpaint_mask_source"), draw_mask(*product.shape[:2]))
    assert bundle.reference_index["controlnet_jobs"]["product_image"] == "coffee.png"


def test_inpaint_condition_is_the_image_with_masked_pixels_at_minus_one(bundle):
    image, mask, condition = bundle.ref("inpaint_image"), bundle.ref("inpaint_mask"), bundle.ref("inpaint_condition")
    assert set(np.unique(mask).tolist()) == {0, 255}, "both generated and kept pixels"
    expected = np.where(mask[..., None] > 0, np.float32(-1.0), image.astype(np.float32) / np.float32(255.0))
    assert np.array_equal(condition[0].transpose(1, 2, 0), expected)


def test_the_grown_mask_covers_the_resized_one(bundle):
    h, w = bundle.ref("inpaint_mask").shape
    source = bundle.ref("inpaint_mask_source")
    # INTER_NEAREST picks source pixel floor(i * scale) (OpenCV's nearest): recomputed here without OpenCV.
    rows = np.floor(np.arange(h) * source.shape[0] / h).astype(int)
    cols = np.floor(np.arange(w) * source.shape[1] / w).astype(int)
    resized = source[rows][:, cols] >= 128
    grown = bundle.ref("inpaint_mask") > 0
    assert np.all(grown[resized]) and grown.sum() > resized.sum()


def test_the_blend_weight_is_zero_on_every_kept_pixel_and_the_kept_pixels_are_the_inputs(bundle):
    mask, weight = bundle.ref("inpaint_mask"), bundle.ref("inpaint_blend_weight")
    assert np.all(weight[mask == 0] == 0) and weight.max() == 1.0 and 0 <= weight.min()
    for job in ("inpaint", "inpaint_softedge"):
        for sampler in JOBS["samplers"]:
            kept = bundle.ref(f"{job}_{sampler}_kept")
            assert np.array_equal(kept[mask == 0], bundle.ref("inpaint_image")[mask == 0])
            full = weight == 1.0
            assert np.array_equal(kept[full], bundle.ref(f"{job}_{sampler}_image")[full])


def test_softedge_condition_is_the_gray_edge_map_in_unit_range(bundle):
    edges, condition = bundle.ref("softedge_edge_map_source"), bundle.ref("softedge_condition")
    assert set(np.unique(edges).tolist()) == {0, 255}
    assert condition.shape == (1, 3, 64, 64) and 0 <= condition.min() and condition.max() <= 1
    assert np.array_equal(condition[0, 0], condition[0, 1]) and np.array_equal(condition[0, 0], condition[0, 2])
    assert condition.max() > 0, "some edges survive the resize"


def _denoise(bundle, job: str, sampler: str):
    p, m = PARAMETERS, bundle.manifest
    used = JOBS["jobs"][job]
    scheduler = make_scheduler(sampler)
    scheduler.set_timesteps(p["steps"])
    latents = torch.from_numpy(bundle.ref("initial_noise").copy()) * scheduler.init_noise_sigma
    feeds = reference_denoiser_feeds(bundle, p)
    for name in ("inpaint", "softedge"):
        condition = bundle.ref(f"{name}_condition")
        feeds[f"{name}_image"] = np.repeat(condition if name in used else np.zeros_like(condition), 2, axis=0)
        feeds[f"{name}_scale"] = np.full(2, JOBS[f"{name}_strength"] if name in used else 0.0, np.float32)
    steps = []
    for t in scheduler.timesteps:
        model_input = scheduler.scale_model_input(torch.cat([latents] * 2), t).numpy()
        eps = bundle.run(GATED, sample=model_input, timestep=np.full(2, float(t), np.float32), **feeds)[0]
        guided = eps[1:] + p["guidance"] * (eps[:1] - eps[1:])
        latents = scheduler.step(torch.from_numpy(guided), t, latents, return_dict=False)[0]
        steps.append(latents.numpy())
    image = bundle.run("vae_decoder", latents=(latents / m["preprocessing"]["vae"]["scaling_factor"]).numpy())[0]
    return steps, image


@pytest.mark.parametrize("job", list(JOBS["jobs"]))
@pytest.mark.parametrize("sampler", JOBS["samplers"])
def test_gated_onnx_loop_reproduces_each_jobs_reference(bundle, job, sampler):
    arithmetic = bundle.reference_index["arithmetic"]
    steps, image = _denoise(bundle, job, sampler)
    for i, latents in enumerate(steps):
        bound = chain_bound(arithmetic, {GATED: i + 1}, CFG_AMPLIFICATION)
        assert_within(latents, bundle.ref(f"{job}_{sampler}_latents_step{i}"), bound, f"{job} latents after step {i}")
    bound = chain_bound(arithmetic, {GATED: len(steps), "vae_decoder": 1}, CFG_AMPLIFICATION)
    assert_within(image, bundle.ref(f"{job}_{sampler}_decoded"), bound, f"{job} decoded image")


def test_each_controlnet_moves_the_result(bundle):
    """The jobs differ from each other and from the IdentityNet-only reference: no ControlNet is silently off."""
    final = {job: bundle.ref(f"{job}_euler_latents_step{PARAMETERS['steps'] - 1}") for job in JOBS["jobs"]}
    final["identitynet"] = bundle.ref(f"euler_latents_step{PARAMETERS['steps'] - 1}")
    names = list(final)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not np.allclose(final[a], final[b], atol=1e-4), f"{a} and {b}"
