"""Each real-mode loader reads its source as published (ecomid_export/published/ writes them), and every tensor
lands where the publisher meant it: values are compared between the file and the loaded module."""

import pytest
import torch
from safetensors.torch import load_file

from ecomid_export.config import TINY
from ecomid_export.models.denoiser import Denoiser, build_unet
from ecomid_export.models.id_encoder import IdEncoder
from ecomid_export.models.resampler import Resampler
from ecomid_export.published.eva_clip import WRAPPERS, write_eva_clip
from ecomid_export.published.identitynet import write_identitynet
from ecomid_export.published.pulid import write_pulid_original
from ecomid_export.published.sdxl_diffusers import write_sdxl_diffusers
from ecomid_export.published.vae import write_old_style_vae
from ecomid_export.real.loaders import (load_eva, load_facexlib_detector, load_facexlib_parser, load_identitynet,
                                       load_instantid_resampler, load_pulid)
from ecomid_export.real.sdxl import load_sdxl, load_vae_override
from ecomid_export.real.weights import read_tensors


def _same(loaded: torch.Tensor, published: torch.Tensor) -> bool:
    return torch.equal(loaded.float(), published.float())


@pytest.fixture(scope="module")
def sdxl_folder(tmp_path_factory):
    """The diffusers layout, with the UNet sharded as diffusers does past its shard size."""
    return write_sdxl_diffusers(tmp_path_factory.mktemp("sdxl") / "stable-diffusion-xl-base-1.0", TINY, seed=3,
                                unet_shard_bytes=100_000)


def test_sdxl_diffusers_folder_loads_clip_l_from_text_model_keys_and_a_sharded_unet(sdxl_folder):
    assert len(list((sdxl_folder / "unet").glob("diffusion_pytorch_model-*.safetensors"))) > 1
    unet, clip_l, clip_g, vae = load_sdxl(sdxl_folder, TINY)
    text_encoder = load_file(str(sdxl_folder / "text_encoder" / "model.safetensors"))
    assert all(k.startswith("text_model.") for k in text_encoder)  # as transformers 4 wrote it
    assert _same(clip_l.model.final_layer_norm.weight, text_encoder["text_model.final_layer_norm.weight"])
    assert _same(clip_l.model.encoder.layers[1].mlp.fc2.weight, text_encoder["text_model.encoder.layers.1.mlp.fc2.weight"])
    text_encoder_2 = load_file(str(sdxl_folder / "text_encoder_2" / "model.safetensors"))
    assert _same(clip_g.model.text_projection.weight, text_encoder_2["text_projection.weight"])
    shards = {}
    for shard in (sdxl_folder / "unet").glob("*.safetensors"):
        shards.update(load_file(str(shard)))
    assert _same(unet.conv_out.weight, shards["conv_out.weight"])
    assert _same(vae.decoder.conv_in.weight, load_file(str(sdxl_folder / "vae" / "diffusion_pytorch_model.safetensors"))["decoder.conv_in.weight"])


def test_sdxl_single_file_loads_clip_l_openclip_g_unet_and_vae(published_inputs):
    checkpoint = load_file(str(published_inputs.sdxl))
    unet, clip_l, clip_g, vae = load_sdxl(published_inputs.sdxl, TINY)
    assert _same(clip_l.model.final_layer_norm.bias,
                 checkpoint["conditioner.embedders.0.transformer.text_model.final_layer_norm.bias"])
    open_clip = "conditioner.embedders.1.model."
    width = TINY.clip_g.hidden_size
    assert _same(clip_g.model.text_projection.weight, checkpoint[open_clip + "text_projection"].T)
    in_proj = checkpoint[open_clip + "transformer.resblocks.2.attn.in_proj_weight"]
    layer = clip_g.model.text_model.encoder.layers[2].self_attn
    assert _same(layer.k_proj.weight, in_proj[width:2 * width]) and _same(layer.v_proj.weight, in_proj[2 * width:])
    assert _same(unet.conv_in.weight, checkpoint["model.diffusion_model.input_blocks.0.0.weight"])
    assert _same(vae.decoder.mid_block.attentions[0].to_q.weight,
                 checkpoint["first_stage_model.decoder.mid.attn_1.q.weight"][:, :, 0, 0])


def test_identitynet_loads_as_ecomid_publishes_it_and_as_a_controlnet_folder_with_instantid_config(tmp_path):
    alone = write_identitynet(tmp_path / "SDXL-EcomID", TINY, seed=4) / "diffusion_pytorch_model.safetensors"
    folder = write_identitynet(tmp_path / "ControlNetModel", TINY, seed=4, with_config=True)
    assert not (alone.parent / "config.json").exists() and (folder / "config.json").is_file()
    published = load_file(str(alone))
    for path in (alone, folder):
        model = load_identitynet(path, TINY)
        assert _same(model.controlnet_mid_block.weight, published["controlnet_mid_block.weight"])
        assert _same(model.controlnet_cond_embedding.conv_out.weight, published["controlnet_cond_embedding.conv_out.weight"])


def _pulid_targets():
    return Denoiser(build_unet(TINY), None, TINY.cross_attention_dim), IdEncoder(TINY)


def test_pulid_comfyui_file_and_original_pulid_v1_bin_fill_the_same_layers(published_inputs, tmp_path):
    original = write_pulid_original(tmp_path / "pulid_v1.bin", TINY, seed=7)
    for path, encoder, layer in ((published_inputs.pulid, "image_proj.", "ip_adapter.{n}.to_{kv}_ip.weight"),
                                 (original, "id_adapter.", "id_adapter_attn_layers.{n}.id_to_{kv}.weight")):
        published = read_tensors(path)
        denoiser, id_encoder = _pulid_targets()
        load_pulid(path, denoiser, id_encoder.mlp)
        assert _same(id_encoder.mlp.mapping_patch_4[6].weight, published[encoder + "mapping_patch_4.6.weight"])
        for n in ("1", "33"):
            assert _same(denoiser.id_attention[n].to_v_ip.weight, published[layer.format(n=n, kv="v")])


def test_instantid_ip_adapter_bin_gives_its_resampler(published_inputs):
    resampler = Resampler(TINY.resampler, TINY.cross_attention_dim)
    load_instantid_resampler(published_inputs.instantid, resampler)
    image_proj = torch.load(published_inputs.instantid, weights_only=True)["image_proj"]
    assert _same(resampler.latents, image_proj["latents"])
    assert _same(resampler.layers[1][1][3].weight, image_proj["layers.1.1.3.weight"])


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_eva_clip_checkpoint_loads_in_every_wrapper_evaclip_unwraps(tmp_path, wrapper):
    path = write_eva_clip(tmp_path / "EVA02_CLIP_L_336_psz14_s6B.pt", TINY, seed=8, wrapper=wrapper)
    tower = IdEncoder(TINY).eva
    load_eva(path, tower)
    bare = torch.load(write_eva_clip(tmp_path / "bare.pt", TINY, seed=8), weights_only=True)
    assert _same(tower.blocks[3].attn.q_bias, bare["visual.blocks.3.attn.q_bias"])
    assert _same(tower.head.weight, bare["visual.head.weight"])


def test_facexlib_files_load_with_their_module_prefix_and_batch_norm_counters(published_inputs):
    detector = load_facexlib_detector(published_inputs.facexlib, TINY)
    parser = load_facexlib_parser(published_inputs.facexlib, TINY)
    detection = torch.load(published_inputs.facexlib / "detection_Resnet50_Final.pth", weights_only=True)
    parsing = torch.load(published_inputs.facexlib / "parsing_bisenet.pth", weights_only=True)
    assert _same(detector.body.layer3[0].downsample[1].running_var, detection["module.body.layer3.0.downsample.1.running_var"])
    assert _same(detector.LandmarkHead[2].conv1x1.bias, detection["module.LandmarkHead.2.conv1x1.bias"])
    assert _same(parser.cp.arm32.bn_atten.running_mean, parsing["cp.arm32.bn_atten.running_mean"])


def test_fp16_fix_vae_folder_its_single_file_and_old_attention_names_load_the_same_weights(published_inputs, tmp_path):
    _, _, _, reference = load_sdxl(published_inputs.sdxl, TINY)
    loaded = {}
    for name, path in (("folder", published_inputs.vae), ("single file", published_inputs.vae / "sdxl_vae.safetensors"),
                       ("old names", write_old_style_vae(tmp_path / "old-vae", TINY, seed=60))):
        vae = type(reference)(**reference.config)
        load_vae_override(path, vae)
        loaded[name] = vae.state_dict()
    old_file = load_file(str(tmp_path / "old-vae" / "diffusion_pytorch_model.safetensors"))
    assert "decoder.mid_block.attentions.0.proj_attn.weight" in old_file
    for key, value in loaded["folder"].items():  # the fp16-fix writer and the old-names writer share seed 60
        assert torch.equal(value, loaded["single file"][key]) and torch.equal(value, loaded["old names"][key]), key


def test_the_streaming_safetensors_writer_writes_the_libraries_bytes(tmp_path):
    from safetensors.torch import save_file

    from ecomid_export.published.safetensors_stream import layout_of, write_safetensors

    g = torch.Generator().manual_seed(0)
    tensors = {"b.f32": torch.randn(3, 5, generator=g), "a.f16": torch.randn(7, generator=g).half(),
               "position_ids": torch.arange(77).unsqueeze(0), "logit_scale": torch.tensor(4.6),
               "z.bf16": torch.randn(2, 2, generator=g).bfloat16(), "empty": torch.zeros(0, 4),
               "u8": torch.arange(5, dtype=torch.uint8), "f64": torch.zeros(2, dtype=torch.float64),
               "i32": torch.ones(3, dtype=torch.int32), "bool": torch.ones(2, dtype=torch.bool)}
    save_file(tensors, str(tmp_path / "library.safetensors"), metadata={"format": "pt"})
    write_safetensors(tmp_path / "streamed.safetensors", layout_of(tensors), tensors.__getitem__, {"format": "pt"})
    assert (tmp_path / "streamed.safetensors").read_bytes() == (tmp_path / "library.safetensors").read_bytes()
