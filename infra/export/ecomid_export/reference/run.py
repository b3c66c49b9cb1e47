"""PyTorch reference run of the tiny bundle on astronaut.png: every intermediate the TypeScript pipeline is checked against.

Written to <bundle>/reference/: raw little-endian tensors + index.json naming
each file's dtype and shape, plus schedulers.json (sigmas and timesteps of
each sampler). The same torch modules the ONNX graphs were exported from run
here, so the TypeScript side compares against PyTorch, not against itself.
"""

import shutil
from pathlib import Path

import numpy as np
import onnx
import torch
from tokenizers import Tokenizer

from ..face_detection import detect, torch_runner
from ..float_error import count_roundings
from ..manifest import ALL_SAMPLERS
from ..models.id_attention import ID_MODES
from ..tensor_io import write_json, write_raw
from ..images import read_rgb
from .align import arcface_crop, ffhq_crop
from .controlnet_jobs import write_controlnet_jobs
from .keypoints import draw_keypoints, hint_for_output
from .schedulers import make_scheduler, schedule_tables

PARAMETERS = {
    "image": "astronaut.png", "prompt": "a portrait photo of a woman astronaut, studio light", "negative_prompt": "",
    "width": 64, "height": 64, "steps": 4, "guidance": 3.5, "identity_weight": 0.3, "structure_strength": 0.8,
    "id_mode": "fidelity", "noise_seed": 42, "samplers": ["euler", "dpmpp_2m_karras", "dpm_2_karras"],
}
SCHEDULE_STEP_COUNTS = (4, 25)


class ReferenceWriter:
    def __init__(self, folder: Path):
        self.folder = folder
        self.index: dict = {}

    def tensor(self, name: str, value) -> np.ndarray:
        array = value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        array = array.astype(np.uint8 if array.dtype == np.uint8 else np.float32)
        suffix = "u8" if array.dtype == np.uint8 else "f32"
        self.index[name] = {"file": f"{name}.{suffix}", **write_raw(self.folder / f"{name}.{suffix}", array)}
        return array


def tokenize(tokenizer: Tokenizer, text: str, pad_id: int, length: int = 77) -> torch.Tensor:
    ids = tokenizer.encode(text).ids
    ids = ids[: length - 1] + [ids[-1]] if len(ids) > length else ids  # keep EOS when truncating
    return torch.tensor([ids + [pad_id] * (length - len(ids))], dtype=torch.int64)


@torch.no_grad()
def write_references(components, manifest: dict, bundle_dir: Path, images_dir: Path) -> None:
    torch.set_num_threads(1)
    folder = bundle_dir / "reference"
    shutil.rmtree(folder, ignore_errors=True)
    out = ReferenceWriter(folder)
    p = PARAMETERS
    image = read_rgb(images_dir / p["image"])

    # 1. Face: one SCRFD detection, the largest face; every crop derives from it.
    boxes, points, det_size = detect(torch_runner(components.scrfd), image)
    largest = int(np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])))
    box, keypoints = boxes[largest], points[largest]
    out.tensor("face_box", box)
    out.tensor("face_keypoints", keypoints)
    arc_crop, arc_matrix = arcface_crop(image, keypoints)
    ffhq, ffhq_matrix = ffhq_crop(image, keypoints)
    out.tensor("arcface_crop", arc_crop)
    out.tensor("arcface_matrix", arc_matrix)
    out.tensor("ffhq_crop", ffhq)
    out.tensor("ffhq_matrix", ffhq_matrix)

    # 2. Identity: ArcFace, EVA branch, ID tokens, Resampler tokens.
    arc_input = torch.from_numpy((arc_crop.astype(np.float32) - 127.5) / 127.5).permute(2, 0, 1)[None]
    embedding = components.arcface(arc_input)
    out.tensor("arcface_embedding", embedding)
    eva_input = components.id_prep(torch.from_numpy(ffhq.astype(np.float32) / 255.0).permute(2, 0, 1)[None])
    id_tokens = out.tensor("id_tokens", components.id_encoder(eva_input, embedding))
    face_tokens = out.tensor("resampler_tokens", components.resampler(embedding[:, None]))
    uncond_id = components.id_encoder.uncond_tokens()
    uncond_face = components.resampler(torch.zeros(1, 1, 512))

    # 3. Keypoint image at source size, then the hint at output size.
    keypoint_image = out.tensor("keypoint_image", draw_keypoints(image.shape[0], image.shape[1], keypoints))
    hint = out.tensor("control_image", hint_for_output(keypoint_image, p["height"], p["width"]))

    # 4. Text: rows [cond; uncond].
    tokenizer = Tokenizer.from_file(str(bundle_dir / manifest["tokenizer"]["file"]))
    pads = manifest["tokenizer"]["pad_token_id"]
    ids_l = torch.cat([tokenize(tokenizer, t, pads["clip_l"]) for t in (p["prompt"], p["negative_prompt"])])
    ids_g = torch.cat([tokenize(tokenizer, t, pads["clip_g"]) for t in (p["prompt"], p["negative_prompt"])])
    out.tensor("input_ids_clip_l", ids_l.to(torch.float32))
    out.tensor("input_ids_clip_g", ids_g.to(torch.float32))
    hidden_g, text_embeds = components.clip_g(ids_g)
    encoder_hidden_states = torch.cat([components.clip_l(ids_l), hidden_g], dim=-1)
    out.tensor("encoder_hidden_states", encoder_hidden_states)
    out.tensor("text_embeds", text_embeds)

    # 5. Denoising inputs shared by every sampler.
    padding = manifest["model"]["id_padding_tokens"][p["id_mode"]]
    pad = lambda t: torch.cat([t, torch.zeros(1, padding, t.shape[-1])], dim=1)  # noqa: E731
    h, w = p["height"], p["width"]
    fixed = {
        "encoder_hidden_states": encoder_hidden_states, "text_embeds": text_embeds,
        "time_ids": torch.tensor([[h, w, 0, 0, h, w]] * 2, dtype=torch.float32),
        "id_tokens": torch.cat([pad(torch.from_numpy(id_tokens)), pad(uncond_id)]),
        "id_weight": torch.full((2,), p["identity_weight"]), "id_mode": torch.full((2,), ID_MODES[p["id_mode"]]),
        "control_image": (torch.from_numpy(hint).permute(2, 0, 1)[None].float() / 255.0).repeat(2, 1, 1, 1),
        "face_tokens": torch.cat([torch.from_numpy(face_tokens), uncond_face]),
        "cn_scale": torch.full((2,), p["structure_strength"]),
    }
    noise = out.tensor("initial_noise", torch.randn(1, 4, h // 8, w // 8, generator=torch.Generator().manual_seed(p["noise_seed"])))

    # 6. Sample with each sampler; decode.
    scaling = manifest["preprocessing"]["vae"]["scaling_factor"]
    for sampler in p["samplers"]:
        latents = _sample(components.denoiser, make_scheduler(sampler), torch.from_numpy(noise), fixed, p, out, sampler)
        image_out = components.vae_decoder(latents / scaling)
        out.tensor(f"{sampler}_decoded", image_out)
        pixels = ((image_out.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[0].permute(1, 2, 0)
        out.tensor(f"{sampler}_image", pixels.numpy())

    # 7. Jobs with the EcomXL ControlNets (reference/controlnet_jobs.py), when the bundle has the gated denoiser.
    controlnet_jobs = None
    if getattr(components, "denoiser_variants", None):
        controlnet_jobs = write_controlnet_jobs(
            components, fixed, noise, out, images_dir, h, w, scaling=scaling,
            sample=lambda denoiser, sampler, start, name: _sample(denoiser, make_scheduler(sampler), start, fixed, p, out, name))

    write_json(folder / "schedulers.json", {
        "note": "diffusers keeps timesteps and sigmas as float32 tensors: these are those float32 values written as "
                "float64, so a float64 implementation agrees to about 1e-7 relative, not bit for bit.",
        "config": manifest["scheduler"],
                                            "tables": schedule_tables(ALL_SAMPLERS, SCHEDULE_STEP_COUNTS)})
    write_json(folder / "index.json", {
        "description": "PyTorch reference outputs of the tiny bundle (fixture weights). Raw little-endian tensors; "
                       "images are HWC uint8 RGB. Rows of batched tensors are [cond, uncond]. Face crops use SCRFD's "
                       "keypoints for both the ArcFace and the FFHQ crop (one detection), Umeyama similarity. "
                       "<sampler>_latents_step<i>: latents after the i-th diffusers scheduler.step call (dpm_2_karras "
                       "makes two calls per step except the last, one model evaluation each). arithmetic: per graph, "
                       "the rounding count the parity tests' float32 bounds derive from "
                       "(infra/export/ecomid_export/float_error.py), at this run's sizes. controlnet_jobs: the "
                       "inpaint, softedge and combined jobs' parameters; their tensors are prefixed inpaint_, "
                       "softedge_, inpaint_softedge_ (infra/export/ecomid_export/reference/controlnet_jobs.py says "
                       "each step); <job>_<sampler>_kept: the keep_unmasked blend.",
        "parameters": PARAMETERS, "detection_size": det_size, "tensors": out.index,
        **({"controlnet_jobs": controlnet_jobs} if controlnet_jobs else {}),
        "arithmetic": graph_rounding_counts(bundle_dir, manifest, {
            "batch": 2, "latent_height": h // 8, "latent_width": w // 8, "image_height": h, "image_width": w,
            "text_tokens": ids_l.shape[1], "id_tokens": fixed["id_tokens"].shape[1], "size": det_size,
            "height": image.shape[0], "width": image.shape[1]}),
    })
    print(f"reference outputs: {len(out.index)} tensors in {folder}")


def graph_rounding_counts(bundle_dir: Path, manifest: dict, dims: dict[str, int]) -> dict:
    """Each graph's rounding count at this run's sizes: what the parity tests' float32 bounds derive from."""
    return {name: count_roundings(onnx.load(str(bundle_dir / graph["file"]), load_external_data=False), dims).to_json()
            for name, graph in manifest["graphs"].items()}


def _sample(denoiser, scheduler, noise, fixed, p, out, sampler):
    scheduler.set_timesteps(p["steps"])
    latents = noise * scheduler.init_noise_sigma
    for i, t in enumerate(scheduler.timesteps):
        model_input = scheduler.scale_model_input(torch.cat([latents] * 2), t)
        timestep = torch.full((2,), float(t))
        eps = denoiser(model_input, timestep, fixed["encoder_hidden_states"], fixed["text_embeds"], fixed["time_ids"],
                       fixed["id_tokens"], fixed["id_weight"], fixed["id_mode"], fixed["control_image"],
                       fixed["face_tokens"], fixed["cn_scale"])
        cond, uncond = eps.chunk(2)
        guided = uncond + p["guidance"] * (cond - uncond)
        latents = scheduler.step(guided, t, latents, return_dict=False)[0]
        out.tensor(f"{sampler}_latents_step{i}", latents)
    return latents
