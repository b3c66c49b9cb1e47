import pytest
import torch

from ecomid_export.config import TINY
from ecomid_export.models.resampler import Resampler
from ecomid_export.strict_load import WeightMismatchError, load_strict, take_prefix


def _resampler_and_weights():
    torch.manual_seed(0)
    source = Resampler(TINY.resampler, 24)
    return Resampler(TINY.resampler, 24), {f"image_proj.{k}": v.clone() for k, v in source.state_dict().items()}


def test_loads_a_matching_state_dict_exactly():
    target, weights = _resampler_and_weights()
    load_strict(target, take_prefix(weights, "image_proj."), "ip-adapter.bin")
    assert torch.equal(target.latents, weights["image_proj.latents"])


def test_names_a_missing_tensor():
    target, weights = _resampler_and_weights()
    del weights["image_proj.layers.1.0.to_kv.weight"]
    with pytest.raises(WeightMismatchError, match=r"ip-adapter\.bin .*missing tensors: layers\.1\.0\.to_kv\.weight"):
        load_strict(target, take_prefix(weights, "image_proj."), "ip-adapter.bin")


def test_names_an_unexpected_tensor():
    target, weights = _resampler_and_weights()
    weights["image_proj.layers.0.0.to_k_extra.weight"] = torch.zeros(2)
    with pytest.raises(WeightMismatchError, match=r"unexpected tensors: layers\.0\.0\.to_k_extra\.weight"):
        load_strict(target, take_prefix(weights, "image_proj."), "ip-adapter.bin")


def test_names_a_misshaped_tensor_with_both_shapes():
    target, weights = _resampler_and_weights()
    weights["image_proj.proj_out.weight"] = torch.zeros(32, 16)
    with pytest.raises(WeightMismatchError, match=r"mis-shaped tensors: proj_out\.weight: file \(32, 16\), model \(24, 16\)"):
        load_strict(target, take_prefix(weights, "image_proj."), "ip-adapter.bin")


def test_nothing_is_loaded_when_refusing():
    target, weights = _resampler_and_weights()
    before = target.latents.clone()
    del weights["image_proj.norm_out.bias"]
    with pytest.raises(WeightMismatchError):
        load_strict(target, take_prefix(weights, "image_proj."), "ip-adapter.bin")
    assert torch.equal(target.latents, before)


def test_derived_buffers_may_be_present_or_absent():
    from ecomid_export.models.eva_vit import EvaVisionTower

    tower = EvaVisionTower(TINY.eva)
    weights = dict(tower.state_dict())
    weights["rope.freqs_cos"] = torch.zeros(1)  # stored by EVA-CLIP, recomputed by us
    load_strict(tower, weights, "eva.pt", derived_keys=tower.derived_checkpoint_keys())
