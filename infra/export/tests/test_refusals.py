"""Files real mode cannot use are refused by name, saying what they are and what to pass instead; a single
wrong tensor is named with its file."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from ecomid_export.config import TINY
from ecomid_export.models.denoiser import Denoiser, build_unet
from ecomid_export.models.id_encoder import IdEncoder
from ecomid_export.published.ecomxl_controlnets import write_ecomxl_controlnet
from ecomid_export.published.identitynet import write_identitynet
from ecomid_export.published.pulid import comfyui_tensors, write_pulid_flux, write_pulid_v1_1
from ecomid_export.published.sdxl_diffusers import write_sdxl_diffusers
from ecomid_export.real.loaders import load_ecomxl_controlnet, load_facexlib_parser, load_identitynet, load_pulid
from ecomid_export.real.sdxl import load_sdxl
from ecomid_export.real.weights import read_tensors
from ecomid_export.strict_load import WeightMismatchError


def _load_pulid(path):
    load_pulid(path, Denoiser(build_unet(TINY), None, TINY.cross_attention_dim), IdEncoder(TINY).mlp)


def _with_keys(published_sdxl, tmp_path, name: str, extra: dict) -> object:
    """The published SDXL single file with a family's marker tensors added."""
    checkpoint = load_file(str(published_sdxl))
    checkpoint.update(extra)
    save_file(checkpoint, str(tmp_path / name))
    return tmp_path / name


@pytest.mark.parametrize("name,marker,what", [
    ("v1-5-pruned-emaonly.safetensors", "cond_stage_model.transformer.text_model.final_layer_norm.weight", "Stable Diffusion 1.x"),
    ("v2-1_768-ema-pruned.safetensors", "cond_stage_model.model.ln_final.weight", "Stable Diffusion 2.x"),
    ("sd_xl_refiner_1.0.safetensors", "conditioner.embedders.0.model.ln_final.weight", "SDXL refiner"),
])
def test_single_file_of_another_family_is_named(published_inputs, tmp_path, name, marker, what):
    path = _with_keys(published_inputs.sdxl, tmp_path, name, {marker: torch.zeros(8)})
    with pytest.raises(WeightMismatchError, match=rf"SDXL {name} is .*{what}.* EcomID needs an SDXL base-architecture checkpoint"):
        load_sdxl(path, TINY)


def test_a_unet_only_file_is_named_as_incomplete(published_inputs, tmp_path):
    unet_only = {k: v for k, v in load_file(str(published_inputs.sdxl)).items() if k.startswith("model.diffusion_model.")}
    save_file(unet_only, str(tmp_path / "unet.safetensors"))
    with pytest.raises(WeightMismatchError, match=r"not a whole SDXL checkpoint: no tensors under conditioner\.embedders\.0"):
        load_sdxl(tmp_path / "unet.safetensors", TINY)


def test_sd15_diffusers_folder_is_named(tmp_path):
    folder = write_sdxl_diffusers(tmp_path / "stable-diffusion-v1-5", TINY)
    config = json.loads((folder / "unet" / "config.json").read_text())
    (folder / "unet" / "config.json").write_text(json.dumps(dict(config, cross_attention_dim=768)))
    with pytest.raises(WeightMismatchError, match=r"is a Stable Diffusion 1\.x model \(UNet cross_attention_dim 768\)"):
        load_sdxl(folder, TINY)


def test_a_missing_sdxl_tensor_names_the_file_and_the_tensor(published_inputs, tmp_path):
    checkpoint = load_file(str(published_inputs.sdxl))
    del checkpoint["conditioner.embedders.0.transformer.text_model.encoder.layers.1.mlp.fc2.bias"]
    save_file(checkpoint, str(tmp_path / "EcomXL.safetensors"))
    with pytest.raises(WeightMismatchError, match=r"SDXL EcomXL\.safetensors \(CLIP-L.*missing tensors: encoder\.layers\.1\.mlp\.fc2\.bias"):
        load_sdxl(tmp_path / "EcomXL.safetensors", TINY)


def test_identitynet_config_that_differs_from_instantid_is_named_field_by_field(tmp_path):
    folder = write_identitynet(tmp_path / "ControlNetModel", TINY, with_config=True,
                               conditioning_embedding_out_channels=[4, 8, 16, 16], controlnet_conditioning_channel_order="bgr")
    with pytest.raises(WeightMismatchError, match=r"differs from InstantID's ControlNet config.*conditioning_embedding_out_channels "
                                                  r"\[4, 8, 16, 16\] \(InstantID: \[4, 8, 8, 16\]\); controlnet_conditioning_channel_order 'bgr'"):
        load_identitynet(folder, TINY)


def test_controlnet_for_sd15_is_named(tmp_path):
    folder = write_identitynet(tmp_path / "control_v11p_sd15_openpose", TINY, with_config=False, addition_embed_type=None)
    with pytest.raises(WeightMismatchError, match=r"ControlNet for Stable Diffusion 1\.x/2\.x .*alimama-creative/SDXL-EcomID"):
        load_identitynet(folder / "diffusion_pytorch_model.safetensors", TINY)
    save_file({"control_model.input_blocks.0.0.weight": torch.zeros(2, 2)}, str(tmp_path / "control_sd15_openpose.safetensors"))
    with pytest.raises(WeightMismatchError, match=r"original ControlNet \(lllyasviel\) layout"):
        load_identitynet(tmp_path / "control_sd15_openpose.safetensors", TINY)


def test_a_missing_identitynet_tensor_names_the_file_and_the_tensor(tmp_path):
    path = write_identitynet(tmp_path / "SDXL-EcomID", TINY) / "diffusion_pytorch_model.safetensors"
    tensors = load_file(str(path))
    del tensors["controlnet_mid_block.weight"]
    save_file(tensors, str(tmp_path / "broken.safetensors"))
    with pytest.raises(WeightMismatchError, match=r"IdentityNet broken\.safetensors .*missing tensors: controlnet_mid_block\.weight"):
        load_identitynet(tmp_path / "broken.safetensors", TINY)


def test_ecomxl_controlnets_load_from_their_published_folders(tmp_path):
    for name in ("inpaint", "softedge"):
        model = load_ecomxl_controlnet(name, write_ecomxl_controlnet(tmp_path, name, TINY, seed=5), TINY)
        assert model.config.conditioning_channels == 3


def test_an_sd15_controlnet_given_as_ecomxl_is_named(tmp_path):
    """lllyasviel/control_v11p_sd15_inpaint's config.json: cross_attention_dim 768, no addition_embed_type; at tiny
    widths the missing SDXL add_embedding is what marks it."""
    folder = write_ecomxl_controlnet(tmp_path, "inpaint", TINY, addition_embed_type=None, addition_time_embed_dim=None,
                                     projection_class_embeddings_input_dim=None)
    with pytest.raises(WeightMismatchError, match=r"EcomXL Inpaint ControlNet EcomXL_controlnet_inpaint/config\.json differs "
                                                  r"from an SDXL ControlNet's config: addition_embed_type None \(SDXL ControlNet: "
                                                  r"'text_time'\).*alimama-creative/EcomXL_controlnet_inpaint"):
        load_ecomxl_controlnet("inpaint", folder, TINY)
    (folder / "config.json").unlink()  # weights alone: named by what the tensors are
    with pytest.raises(WeightMismatchError, match=r"no config\.json"):
        load_ecomxl_controlnet("inpaint", folder, TINY)


def test_an_ecomxl_controlnet_with_another_condition_width_is_named(tmp_path):
    folder = write_ecomxl_controlnet(tmp_path, "softedge", TINY, conditioning_channels=4)
    with pytest.raises(WeightMismatchError, match=r"EcomXL Softedge ControlNet .*conditioning_channels 4 \(SDXL ControlNet: 3\)"):
        load_ecomxl_controlnet("softedge", folder, TINY)


def test_an_sd15_controlnet_without_config_tensors_is_named(tmp_path):
    """A folder whose config passes but whose weights are another model's: the tensors decide."""
    folder = write_ecomxl_controlnet(tmp_path, "inpaint", TINY)
    save_file({"control_model.input_blocks.0.0.weight": torch.zeros(2, 2)}, str(folder / "diffusion_pytorch_model.safetensors"))
    with pytest.raises(WeightMismatchError, match=r"original ControlNet \(lllyasviel\) layout.*EcomXL_controlnet_inpaint"):
        load_ecomxl_controlnet("inpaint", folder, TINY)


def test_pulid_v1_1_and_pulid_flux_are_named(tmp_path):
    with pytest.raises(WeightMismatchError, match=r"pulid_v1\.1\.safetensors is PuLID v1\.1 .*IDFormer.* ip-adapter_pulid_sdxl_fp16"):
        _load_pulid(write_pulid_v1_1(tmp_path / "pulid_v1.1.safetensors", TINY))
    with pytest.raises(WeightMismatchError, match=r"is PuLID-FLUX .*not SDXL.* pulid_v1\.bin"):
        _load_pulid(write_pulid_flux(tmp_path / "pulid_flux_v0.9.1.safetensors"))


def test_a_missing_pulid_layer_names_the_file_and_the_tensors(tmp_path):
    tensors = {k: v for k, v in comfyui_tensors(TINY).items() if not k.startswith("ip_adapter.33.")}
    save_file(tensors, str(tmp_path / "pulid.safetensors"))
    with pytest.raises(WeightMismatchError, match=r"PuLID pulid\.safetensors \(ip_adapter\).*missing tensors: 33\.to_k_ip\.weight, 33\.to_v_ip\.weight"):
        _load_pulid(tmp_path / "pulid.safetensors")


def test_facexlib_parsenet_instead_of_bisenet_is_named(published_inputs, tmp_path):
    folder = tmp_path / "facexlib"
    folder.mkdir()
    (folder / "detection_Resnet50_Final.pth").write_bytes((published_inputs.facexlib / "detection_Resnet50_Final.pth").read_bytes())
    torch.save({"conv1.weight": torch.zeros(1)}, folder / "parsing_parsenet.pth")
    with pytest.raises(FileNotFoundError, match=r"parsing_bisenet\.pth not found \(found \['detection_Resnet50_Final\.pth', 'parsing_parsenet\.pth'\]\)"):
        load_facexlib_parser(folder, TINY)


def test_git_lfs_pointers_are_named_as_such(tmp_path):
    pointer = tmp_path / "diffusion_pytorch_model.safetensors"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 5000000000\n")
    with pytest.raises(ValueError, match="Git LFS pointer"):
        read_tensors(pointer)
