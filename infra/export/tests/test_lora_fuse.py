"""LoRA fusing into the SDXL UNet (real/lora_fuse.py), proven against diffusers' own loader and PEFT's fuse on the
same tiny UNet, for both published key layouts (ecomid_export/published/lora.py), and its strict check."""

import copy

import pytest
import torch
from diffusers import StableDiffusionXLPipeline
from safetensors.torch import load_file, save_file

from ecomid_export.config import TINY
from ecomid_export.published.lora import write_diffusers_lora, write_kohya_lora, write_kohya_sgm_lora
from ecomid_export.published.sdxl_diffusers import seeded_unet
from ecomid_export.real.lora_fuse import fusable_modules, fuse_lora, lora_pairs, pair_scale, peft_metadata
from ecomid_export.real.weights import read_tensors
from ecomid_export.strict_load import WeightMismatchError

U = 2.0**-24  # float32 unit roundoff


@pytest.fixture(scope="module")
def base_unet():
    return seeded_unet(TINY, 5).eval()


@pytest.fixture(scope="module")
def lora_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("lora")
    return {"kohya": write_kohya_lora(root / "sdxl_lightning_4step_lora.safetensors", TINY),
            "kohya-sgm": write_kohya_sgm_lora(root / "sd_scripts_sdxl_lora.safetensors", TINY),
            "diffusers": write_diffusers_lora(root / "diffusers-lora", TINY)}


def diffusers_fused(base, path, scale):
    """diffusers' path end to end: its state-dict loader (kohya conversion, alphas, PEFT header), PEFT's injection,
    then fuse_lora; the fused weight of each module wherever PEFT left it (`<module>.base_layer.weight`)."""
    unet = copy.deepcopy(base)
    state, alphas, metadata = StableDiffusionXLPipeline.lora_state_dict(
        str(path.parent), weight_name=path.name, unet_config=unet.config, return_lora_metadata=True)
    StableDiffusionXLPipeline.load_lora_into_unet(state, alphas, unet, metadata=metadata)
    unet.fuse_lora(lora_scale=scale)
    weights = dict(unet.named_parameters())
    return {name: weights.get(f"{name}.base_layer.weight", weights.get(f"{name}.weight")).detach()
            for name in fusable_modules(base)}


def rounding_bound(base, path, scale) -> dict[str, torch.Tensor]:
    """Per weight, how far two float32 evaluations of W + s * up @ down may differ: each side rounds the rank-r
    dot product (at most r roundings of the partial sums, gamma_r = r u of sum |up||down|), the scalar products
    (2) and the sum with W (1), all relative to |W| + s * (|up| @ |down|); the two sides' errors add."""
    modules = fusable_modules(base)
    bounds = {}
    for pair in lora_pairs(read_tensors(path), base, path.name):
        s = scale * pair_scale(pair, peft_metadata(path), path.name)
        up, down = pair.tensors["up"].float().abs(), pair.tensors["down"].float().abs()
        magnitude = torch.einsum("or,rikl->oikl", up.flatten(1), down) if down.ndim == 4 else up @ down
        rank = down.shape[0]
        bounds[pair.module] = 2 * (rank + 3) * U * (modules[pair.module].weight.detach().abs() + abs(s) * magnitude)
    return bounds


@pytest.mark.parametrize("style", ["kohya", "kohya-sgm", "diffusers"])
@pytest.mark.parametrize("scale", [1.0, 0.75])
def test_fused_weights_equal_diffusers_and_peft_fuse(base_unet, lora_files, style, scale):
    path = lora_files[style]
    ours = copy.deepcopy(base_unet)
    changed = fuse_lora(ours, path, scale)
    reference = diffusers_fused(base_unet, path, scale)
    bounds = rounding_bound(base_unet, path, scale)
    assert changed == len(bounds) > 0
    base_weights = {n: m.weight for n, m in fusable_modules(base_unet).items()}
    for name, module in fusable_modules(ours).items():
        if name in bounds:
            assert not torch.equal(reference[name], base_weights[name]), f"diffusers left {name} unchanged"
            error = (module.weight - reference[name]).abs()
            assert (error <= bounds[name]).all(), f"{name}: worst {float(error.max()):.3g}"
        else:  # untouched by the LoRA, untouched by both
            assert torch.equal(module.weight, base_weights[name]) and torch.equal(reference[name], base_weights[name])


def test_fixtures_cover_linear_1x1_and_3x3_targets_and_alphas_other_than_the_rank(base_unet, lora_files):
    modules = fusable_modules(base_unet)
    for style, path in lora_files.items():
        pairs = lora_pairs(read_tensors(path), base_unet, path.name)
        kinds = {(type(modules[p.module]).__name__, tuple(modules[p.module].weight.shape[2:])) for p in pairs}
        assert {("Linear", ()), ("Conv2d", (1, 1)), ("Conv2d", (3, 3))} <= kinds, style
        scales = {pair_scale(p, peft_metadata(path), path.name) for p in pairs}
        assert 1.0 not in scales, f"{style}: a scale of 1 would not test alpha / rank"
    kohya = load_file(str(lora_files["kohya"]))
    assert all(k.startswith("lora_unet_") for k in kohya)
    assert any(k.startswith("lora_unet_down_blocks_") for k in kohya)
    sgm = load_file(str(lora_files["kohya-sgm"]))
    assert any(k.startswith("lora_unet_input_blocks_") for k in sgm) and not any("down_blocks" in k for k in sgm)
    assert all(k.startswith("unet.") and (".lora_A." in k or ".lora_B." in k) for k in load_file(str(lora_files["diffusers"])))


def _rewritten(lora_files, tmp_path, change) -> "Path":  # noqa: F821
    tensors = load_file(str(lora_files["kohya"]))
    change(tensors)
    path = tmp_path / "edited_lora.safetensors"
    save_file(tensors, str(path))
    return path


def _first(tensors, suffix):
    return next(k for k in sorted(tensors) if k.endswith(suffix))


@pytest.mark.parametrize("change, message", [
    (lambda t: t.update({"lora_unet_mid_block_attentions_0_missing_layer.lora_down.weight": torch.zeros(4, 8)}),
     "lora_unet_mid_block_attentions_0_missing_layer.lora_down.weight: no Linear or Conv2d module"),
    (lambda t: t.pop(_first(t, ".lora_up.weight")), "no up tensor beside it"),
    (lambda t: t.update({"lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight": torch.zeros(4, 8)}),
     "lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight: a text-encoder LoRA tensor"),
    (lambda t: t.update({"lora_unet_conv_in.weight": torch.zeros(4)}), "lora_unet_conv_in.weight: not a LoRA key"),
    (lambda t: t.update({(k := _first(t, ".lora_down.weight")): t[k].transpose(0, 1).contiguous()}), "do not fit"),
])
def test_strict_check_names_the_file_and_the_key(base_unet, lora_files, tmp_path, change, message):
    path = _rewritten(lora_files, tmp_path, change)
    unet = copy.deepcopy(base_unet)
    before = {k: v.clone() for k, v in unet.state_dict().items()}
    with pytest.raises(WeightMismatchError, match="edited_lora.safetensors") as error:
        fuse_lora(unet, path)
    assert message in str(error.value)
    assert all(torch.equal(before[k], v) for k, v in unet.state_dict().items()), "a refused file changed weights"
