"""The real-bundle path, run on tiny files written in the published formats (no real weights exist here)."""

import shutil
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import save_file

from ecomid_export.config import TINY
from ecomid_export.models.bisenet import BiSeNet
from ecomid_export.models.denoiser import Denoiser, build_identitynet, build_unet
from ecomid_export.models.id_encoder import IdEncoder
from ecomid_export.models.resampler import Resampler
from ecomid_export.models.retinaface import RetinaFace
from ecomid_export.models.text_encoders import build_clip_g, build_clip_l
from ecomid_export.models.vae_decoder import build_vae
from ecomid_export.real.build import build_real_bundle
from ecomid_export.real.loaders import load_identitynet, load_pulid
from ecomid_export.strict_load import WeightMismatchError


def _plain(module):
    return {k: v.detach().clone().contiguous() for k, v in module.state_dict().items()}


@pytest.fixture(scope="module")
def published(tmp_path_factory, tiny_bundle):
    """Tiny stand-ins for every published file, in each publisher's layout."""
    root = tmp_path_factory.mktemp("published")
    torch.manual_seed(11)
    unet, clip_l, clip_g, vae = build_unet(TINY), build_clip_l(TINY), build_clip_g(TINY), build_vae(TINY)
    sdxl = root / "sdxl"
    for folder, module in (("unet", unet), ("text_encoder", clip_l.model), ("text_encoder_2", clip_g.model), ("vae", vae)):
        (sdxl / folder).mkdir(parents=True)
        save_file(_plain(module), str(sdxl / folder / "diffusion_pytorch_model.safetensors"))
    save_file(_plain(build_identitynet(TINY)), str(root / "identitynet.safetensors"))
    denoiser = Denoiser(build_unet(TINY), None, TINY.cross_attention_dim)
    id_encoder = IdEncoder(TINY)
    pulid = {f"image_proj.{k}": v for k, v in _plain(id_encoder.mlp).items()}
    pulid.update({f"ip_adapter.{k}": v for k, v in _plain(denoiser.id_attention).items()})
    save_file(pulid, str(root / "pulid.safetensors"))
    torch.save({"image_proj": _plain(Resampler(TINY.resampler, TINY.cross_attention_dim)), "ip_adapter": {"1.to_k_ip.weight": torch.zeros(1)}},
               root / "ip-adapter.bin")
    eva = {f"visual.{k}": v for k, v in _plain(id_encoder.eva).items()}
    eva.update({"visual.rope.freqs_cos": torch.zeros(1), "text.token_embedding.weight": torch.zeros(2, 2)})
    torch.save({k: v for k, v in eva.items() if k.startswith("visual.")}, root / "eva.pt")
    facexlib = root / "facexlib"
    facexlib.mkdir()
    torch.save({f"module.{k}": v for k, v in _plain(RetinaFace(TINY.retinaface_widths, TINY.retinaface_blocks)).items()},
               facexlib / "detection_Resnet50_Final.pth")
    torch.save(_plain(BiSeNet(TINY.bisenet_widths)), facexlib / "parsing_bisenet.pth")
    antelope = root / "antelopev2"
    antelope.mkdir()
    shutil.copy(tiny_bundle / "graphs" / "scrfd.onnx", antelope / "scrfd_10g_bnkps.onnx")
    shutil.copy(tiny_bundle / "graphs" / "arcface.onnx", antelope / "glintr100.onnx")
    return root


def test_identitynet_loader_names_a_missing_tensor(published, tmp_path):
    tensors = _plain(build_identitynet(TINY))
    del tensors["controlnet_mid_block.weight"]
    save_file(tensors, str(tmp_path / "broken.safetensors"))
    load_identitynet(published / "identitynet.safetensors", TINY)
    with pytest.raises(WeightMismatchError, match=r"IdentityNet broken\.safetensors .*missing tensors: controlnet_mid_block\.weight"):
        load_identitynet(tmp_path / "broken.safetensors", TINY)


def test_pulid_loader_refuses_a_file_with_foreign_tensors(tmp_path):
    denoiser = Denoiser(build_unet(TINY), None, TINY.cross_attention_dim)
    id_encoder = IdEncoder(TINY)
    tensors = {f"image_proj.{k}": v for k, v in _plain(id_encoder.mlp).items()}
    tensors.update({f"ip_adapter.{k}": v for k, v in _plain(denoiser.id_attention).items()})
    tensors["id_adapter.extra"] = torch.zeros(1)  # PuLID's original pulid_v1.bin naming: the wrong file
    save_file(tensors, str(tmp_path / "pulid.safetensors"))
    with pytest.raises(WeightMismatchError, match="id_adapter.extra"):
        load_pulid(tmp_path / "pulid.safetensors", denoiser, id_encoder.mlp)


def test_pulid_loader_names_a_missing_id_layer(tmp_path):
    denoiser = Denoiser(build_unet(TINY), None, TINY.cross_attention_dim)
    id_encoder = IdEncoder(TINY)
    tensors = {f"image_proj.{k}": v for k, v in _plain(id_encoder.mlp).items()}
    tensors.update({f"ip_adapter.{k}": v for k, v in _plain(denoiser.id_attention).items() if not k.startswith("33.")})
    save_file(tensors, str(tmp_path / "pulid.safetensors"))
    with pytest.raises(WeightMismatchError, match=r"missing tensors: 33\.to_k_ip\.weight, 33\.to_v_ip\.weight"):
        load_pulid(tmp_path / "pulid.safetensors", denoiser, id_encoder.mlp)


def test_real_mode_builds_a_valid_bundle_from_published_layouts(published, tmp_path):
    args = SimpleNamespace(
        sdxl=published / "sdxl", identitynet=published / "identitynet.safetensors", pulid=published / "pulid.safetensors",
        instantid=published / "ip-adapter.bin", eva_clip=published / "eva.pt", facexlib=published / "facexlib",
        antelopev2=published / "antelopev2", vae=None, out=tmp_path / "bundle", bundle_id="ecomid-test", bundle_version="0",
        precision="fp16",
    )
    manifest = build_real_bundle(args, TINY)
    assert manifest["fixture"] is False
    assert manifest["licences"]["antelopev2"]["commercial_use"] is False
    assert manifest["graphs"]["scrfd"]["sources"] == ["antelopev2"]
    assert [o["name"] for o in manifest["graphs"]["scrfd"]["outputs"]][:3] == ["score_8", "score_16", "score_32"]
    assert manifest["graphs"]["denoiser"]["external_data"] == ["graphs/denoiser.onnx.data"]
    assert (args.out / "graphs" / "denoiser.onnx.data").is_file()
    assert manifest["graphs"]["denoiser"]["precision"] == "mixed"
    assert manifest["graphs"]["clip_g"]["precision"] == "float16"
    assert manifest["graphs"]["vae_decoder"]["precision"] == "float32"  # no fp16-fix VAE given
    assert manifest["graphs"]["denoiser"]["inputs"][0]["dtype"] == "float32"  # fp16 stays inside the graph


def test_published_onnx_dims_get_distinct_valid_symbols():
    from onnx import TensorProto, helper

    from ecomid_export.real.antelopev2 import _dims

    scores = _dims(helper.make_tensor_value_info("448", TensorProto.FLOAT, [None, 1]))
    boxes = _dims(helper.make_tensor_value_info("471", TensorProto.FLOAT, [None, 4]))
    image = _dims(helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "?", "?"]))
    assert scores == ("t_448_dim0", 1) and boxes == ("t_471_dim0", 4)
    assert image == (1, 3, "t_input_1_dim2", "t_input_1_dim3")


def test_git_lfs_pointers_are_named_as_such(tmp_path):
    from ecomid_export.real.weights import read_tensors

    pointer = tmp_path / "diffusion_pytorch_model.safetensors"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 5000000000\n")
    with pytest.raises(ValueError, match="Git LFS pointer"):
        read_tensors(pointer)


def test_pulid_v1_1_is_refused_with_the_reason(tmp_path):
    denoiser = Denoiser(build_unet(TINY), None, TINY.cross_attention_dim)
    tensors = {"image_proj.latents": torch.zeros(1, 32, 8), "image_proj.layers.0.0.norm1.weight": torch.zeros(8)}
    tensors.update({f"ip_adapter.{k}": v for k, v in _plain(denoiser.id_attention).items()})
    save_file(tensors, str(tmp_path / "pulid_v11.safetensors"))
    with pytest.raises(WeightMismatchError, match="v1.1 IDFormer"):
        load_pulid(tmp_path / "pulid_v11.safetensors", denoiser, IdEncoder(TINY).mlp)


def test_pulid_original_bin_layout_gets_a_hint(tmp_path):
    save_file({"id_adapter.body.0.weight": torch.zeros(2, 2)}, str(tmp_path / "pulid_v1.safetensors"))
    with pytest.raises(WeightMismatchError, match="original .bin layout"):
        load_pulid(tmp_path / "pulid_v1.safetensors", Denoiser(build_unet(TINY), None, TINY.cross_attention_dim),
                   IdEncoder(TINY).mlp)


def test_single_file_sdxl_checkpoint_loads_into_the_same_modules(tmp_path):
    from ldm_layout import open_clip_to_ldm, unet_to_ldm, vae_to_ldm

    from ecomid_export.real.loaders import load_sdxl

    torch.manual_seed(5)
    unet, clip_l, clip_g, vae = build_unet(TINY), build_clip_l(TINY), build_clip_g(TINY), build_vae(TINY)
    checkpoint = unet_to_ldm(_plain(unet), TINY.unet.layers_per_block, [True, True, False])
    checkpoint.update({f"conditioner.embedders.0.transformer.{k}": v for k, v in _plain(clip_l.model).items()})
    checkpoint.update(open_clip_to_ldm(_plain(clip_g.model)))
    checkpoint.update(vae_to_ldm(_plain(vae), len(TINY.vae.block_out_channels)))
    save_file(checkpoint, str(tmp_path / "sdxl.safetensors"))

    loaded = load_sdxl(tmp_path / "sdxl.safetensors", TINY)
    for original, copy in zip((unet, clip_l.model, clip_g.model, vae), loaded):
        copy_state = copy.state_dict() if not hasattr(copy, "model") else copy.model.state_dict()
        for key, value in original.state_dict().items():
            assert torch.equal(copy_state[key], value), key
