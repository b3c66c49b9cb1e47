"""PyTorch references for jobs with the EcomXL ControlNets (issue 14): an inpaint job, a softedge job, and both.

Each follows issue 14's contract for the conditions, step by step, so the TypeScript pipeline can be held to
every intermediate pixel for pixel:
- inpaint: coffee.png (the product) with a mask drawn here (an ellipse around the cup is kept, the rest is
  generated): image resized to the output size with INTER_AREA (shrinking), mask with INTER_NEAREST, binarised at
  luma >= 128, grown by cv2.dilate with an ellipse of (2*grow+1)^2; the condition is RGB/255 with grown-mask pixels
  -1 (the EcomXL Inpaint model card's make_inpaint_condition); the blend weight for keep_unmasked is
  GaussianBlur(erode(mask, rect (2*feather+1)^2), (2*feather+1)^2, 0) / 255, and the kept image
  clip(generated * w + original * (1 - w), 0, 255) truncated to uint8, in float32.
- softedge: an edge map given as is, derived here from chelsea.png by cv2.Canny (integer arithmetic, the same
  bits everywhere), gray replicated to RGB; resized to the output size with INTER_LINEAR on uint8, then /255.
The identity inputs, prompt, noise and keypoint hint are the main reference's (coffee.png has no face, so the
keypoints are the reference's, placed as today). A ControlNet a job does not use gets a zero image and scale 0
in the gated denoiser, as the pipeline feeds it (manifest denoiser_variants).
"""

from pathlib import Path

import cv2
import numpy as np
import torch

from ..images import read_rgb

JOBS = {
    "product_image": "coffee.png", "edge_source_image": "chelsea.png",
    # The kept product: an ellipse (centre, axes in source pixels of the 600x400 photo) around the cup.
    "keep_ellipse": {"center": [300, 190], "axes": [190, 150]},
    "canny_thresholds": [100, 200], "grow": 2, "feather": 3,
    "inpaint_strength": 0.9, "softedge_strength": 0.7, "samplers": ["euler", "dpmpp_2m_karras"],
    "jobs": {"inpaint": ["inpaint"], "softedge": ["softedge"], "inpaint_softedge": ["inpaint", "softedge"]},
}


def draw_mask(height: int, width: int) -> np.ndarray:
    """White (255) where new pixels are generated: everything but the ellipse around the product."""
    mask = np.full((height, width), 255, np.uint8)
    e = JOBS["keep_ellipse"]
    cv2.ellipse(mask, tuple(e["center"]), tuple(e["axes"]), 0, 0, 360, 0, thickness=-1)
    return mask


def luma(rgb: np.ndarray) -> np.ndarray:
    """PIL's convert("L"): (R*19595 + G*38470 + B*7471 + 0x8000) >> 16."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)


def inpaint_inputs(product: np.ndarray, mask_source: np.ndarray, height: int, width: int) -> dict[str, np.ndarray]:
    shrinking = width * height < product.shape[0] * product.shape[1]
    image = cv2.resize(product, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    mask = cv2.resize(mask_source, (width, height), interpolation=cv2.INTER_NEAREST)
    binary = np.where(mask >= 128, 255, 0).astype(np.uint8)
    grow, feather = JOBS["grow"], JOBS["feather"]
    if grow > 0:
        binary = cv2.dilate(binary, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    condition = image.astype(np.float32) / 255.0
    condition[binary > 0] = -1.0
    eroded = cv2.erode(binary, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * feather + 1, 2 * feather + 1)))
    weight = cv2.GaussianBlur(eroded, (2 * feather + 1, 2 * feather + 1), 0).astype(np.float32) / 255.0
    return {"image": image, "mask": binary, "condition": condition.transpose(2, 0, 1)[None], "weight": weight}


def edge_map_source(photo: np.ndarray) -> np.ndarray:
    low, high = JOBS["canny_thresholds"]
    edges = cv2.Canny(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY), low, high)
    return np.repeat(edges[..., None], 3, axis=2)


def softedge_condition(edge_map: np.ndarray, height: int, width: int) -> np.ndarray:
    gray = luma(edge_map)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    if rgb.shape[:2] != (height, width):
        rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LINEAR)
    return (rgb.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]


def keep_unmasked(generated: np.ndarray, original: np.ndarray, weight: np.ndarray) -> np.ndarray:
    w = weight[..., None]
    blended = generated.astype(np.float32) * w + original.astype(np.float32) * (np.float32(1.0) - w)
    return np.clip(blended, 0, 255).astype(np.uint8)


def write_controlnet_jobs(components, fixed: dict, noise: np.ndarray, out, images_dir: Path, height: int, width: int,
                          sample, scaling: float) -> dict:
    """Writes every job's tensors through `out`; `sample(denoiser, sampler, noise, name)` runs one sampler's loop
    with the main reference's settings. Returns the parameters for the index."""
    product = read_rgb(images_dir / JOBS["product_image"])
    mask_source = out.tensor("inpaint_mask_source", draw_mask(*product.shape[:2]))
    inpaint = inpaint_inputs(product, mask_source, height, width)
    out.tensor("inpaint_image", inpaint["image"])
    out.tensor("inpaint_mask", inpaint["mask"])
    out.tensor("inpaint_condition", inpaint["condition"])
    out.tensor("inpaint_blend_weight", inpaint["weight"])
    edge_map = out.tensor("softedge_edge_map_source", edge_map_source(read_rgb(images_dir / JOBS["edge_source_image"])))
    out.tensor("softedge_condition", softedge_condition(edge_map, height, width))

    conditions = {"inpaint": torch.from_numpy(inpaint["condition"]), "softedge": torch.from_numpy(softedge_condition(edge_map, height, width))}
    strengths = {"inpaint": JOBS["inpaint_strength"], "softedge": JOBS["softedge_strength"]}
    gated = components.denoiser_variant(["inpaint", "softedge"])
    for job, used in JOBS["jobs"].items():
        extra = []
        for name in ("inpaint", "softedge"):
            on = name in used
            image = conditions[name] if on else torch.zeros_like(conditions[name])
            extra += [image.repeat(2, 1, 1, 1), torch.full((2,), strengths[name] if on else 0.0)]
        denoiser = lambda *args, extra=extra: gated(*args, *extra)  # noqa: E731 - the [cond; uncond] rows share them
        for sampler in JOBS["samplers"]:
            name = f"{job}_{sampler}"
            latents = sample(denoiser, sampler, torch.from_numpy(noise), name)
            decoded = components.vae_decoder(latents / scaling)
            out.tensor(f"{name}_decoded", decoded)
            pixels = ((decoded.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[0].permute(1, 2, 0).numpy()
            out.tensor(f"{name}_image", pixels)
            if "inpaint" in used:
                out.tensor(f"{name}_kept", keep_unmasked(pixels, inpaint["image"], inpaint["weight"]))
    return JOBS
