"""Few-step bases in real mode (real/few_step.py): the preset from the published file names or --few-step, the
1-step x0 refusal, the Lightning UNet in place of the base's, LoRAs fused into it, a shipped scheduler checked, and
a bundle built by the CLI from published-layout files carrying the preset's scheduler, defaults and limits."""

import copy
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import EXPORT_DIR
from ecomid_export.__main__ import FEW_STEP_PRESETS, parse_args
from ecomid_export.config import TINY
from ecomid_export.manifest import SCHEMA_PATH
from ecomid_export.published.few_step import write_lightning_unet, write_turbo_folder
from ecomid_export.published.lora import write_kohya_lora
from ecomid_export.real.few_step import (apply_preset, base_unet, check_shipped_scheduler, load_lightning_unet,
                                         preset_from_name, resolve_few_step)
from ecomid_export.real.few_step_presets import PRESETS
from ecomid_export.real.lora_fuse import fuse_lora
from ecomid_export.strict_load import WeightMismatchError


@pytest.fixture(scope="module")
def lightning_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("lightning")
    return SimpleNamespace(unet=write_lightning_unet(root / "sdxl_lightning_4step_unet.safetensors", TINY),
                           lora=write_kohya_lora(root / "sdxl_lightning_4step_lora.safetensors", TINY))


def test_cli_presets_are_the_presets():
    assert FEW_STEP_PRESETS == tuple(PRESETS)


@pytest.mark.parametrize("name, preset", [
    ("sdxl_lightning_2step_unet.safetensors", "lightning-2step"), ("sdxl_lightning_4step_lora.safetensors", "lightning-4step"),
    ("sdxl_lightning_8step.safetensors", "lightning-8step"), ("sd_xl_turbo_1.0_fp16.safetensors", "turbo"),
    ("sd_xl_base_1.0.safetensors", None), ("my_lora.safetensors", None)])
def test_published_names_state_their_preset(name, preset):
    assert preset_from_name(Path(name)) == preset


@pytest.mark.parametrize("name", ["sdxl_lightning_1step_unet_x0.safetensors", "sdxl_lightning_1step_x0.safetensors"])
def test_the_one_step_x0_model_is_refused_with_its_reason(name):
    with pytest.raises(ValueError, match=r'predicts x0 \(the model card runs it with prediction_type="sample"\)'):
        preset_from_name(Path(name))


def test_presets_must_agree_and_a_renamed_unet_needs_few_step():
    four, eight = Path("sdxl_lightning_4step_unet.safetensors"), Path("sdxl_lightning_8step_lora.safetensors")
    assert resolve_few_step(None, Path("sd_xl_base_1.0.safetensors"), four, []) == "lightning-4step"
    assert resolve_few_step("turbo", Path("sd_xl_base_1.0.safetensors"), None, []) == "turbo"
    assert resolve_few_step(None, Path("sd_xl_base_1.0.safetensors"), None, []) is None
    with pytest.raises(ValueError, match="different step counts"):
        resolve_few_step(None, None, four, [eight])
    with pytest.raises(ValueError, match="contradicts"):
        resolve_few_step("lightning-2step", None, four, [])
    with pytest.raises(ValueError, match="--few-step lightning-Nstep"):
        resolve_few_step(None, None, Path("renamed_unet.safetensors"), [])


def test_a_turbo_folder_needs_its_preset_named_and_must_ship_a_fitting_schedule(tmp_path):
    turbo = write_turbo_folder(tmp_path / "sdxl-turbo", TINY)
    assert json.loads((turbo / "scheduler" / "scheduler_config.json").read_text())["timestep_spacing"] == "trailing"
    with pytest.raises(ValueError, match="ships a trailing-spacing scheduler"):
        resolve_few_step(None, turbo, None, [])
    check_shipped_scheduler(turbo, "turbo")
    foreign = write_turbo_folder(tmp_path / "v-pred", TINY, scheduler={"prediction_type": "v_prediction"})
    with pytest.raises(WeightMismatchError, match="prediction_type: folder 'v_prediction', preset 'epsilon'"):
        check_shipped_scheduler(foreign, "turbo")


def test_the_cli_resolves_the_preset_and_keeps_few_step_options_out_of_tiny_mode(lightning_files, tmp_path, capsys):
    needed = [a for n in ("sdxl", "identitynet", "pulid", "instantid", "eva-clip", "facexlib", "antelopev2")
              for a in (f"--{n}", str(tmp_path / n))]
    args = parse_args(["--out", str(tmp_path / "out"), *needed, "--lora", str(lightning_files.lora)])
    assert args.few_step == "lightning-4step" and args.lora == [lightning_files.lora]
    with pytest.raises(SystemExit):
        parse_args(["--out", str(tmp_path / "out"), *needed, "--lightning-unet", str(tmp_path / "sdxl_lightning_1step_unet_x0.safetensors")])
    assert "predicts x0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--out", str(tmp_path / "out"), "--tiny-random", "--few-step", "turbo"])


def test_the_lightning_unet_replaces_the_base_unet_and_loras_fuse_into_it(lightning_files, published_inputs):
    published = load_file(str(lightning_files.unet))
    args = SimpleNamespace(sdxl=published_inputs.sdxl, lightning_unet=lightning_files.unet, lora=[])
    unet = base_unet(args, TINY, torch.float32)
    assert all(torch.equal(v, published[k].float()) for k, v in unet.state_dict().items())
    fused = base_unet(SimpleNamespace(**{**vars(args), "lora": [lightning_files.lora]}), TINY, torch.float32)
    expected = copy.deepcopy(unet)
    fuse_lora(expected, lightning_files.lora)
    changed = [k for k, v in fused.state_dict().items() if not torch.equal(v, unet.state_dict()[k])]
    assert changed and all(torch.equal(v, expected.state_dict()[k]) for k, v in fused.state_dict().items())


def test_a_whole_checkpoint_is_refused_as_a_lightning_unet(lightning_files, tmp_path):
    whole = tmp_path / "sdxl_lightning_4step.safetensors"
    save_file({f"model.diffusion_model.{k}": v for k, v in list(load_file(str(lightning_files.unet)).items())[:3]}, str(whole))
    with pytest.raises(WeightMismatchError, match="pass it as --sdxl"):
        load_lightning_unet(whole, TINY, torch.float32)


@pytest.fixture(scope="module")
def few_step_bundle(published_inputs, lightning_files, tmp_path_factory):
    out = tmp_path_factory.mktemp("few-step-bundle")
    subprocess.run([sys.executable, "-m", "ecomid_export", "--out", str(out), "--widths", "tiny", "--bundle-id", "ecomid-lightning",
                    *published_inputs.cli_args(), "--lightning-unet", str(lightning_files.unet), "--lora", str(lightning_files.lora)],
                   cwd=EXPORT_DIR, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "manifest.json").read_text())


def test_a_real_bundle_carries_the_lightning_schedule_defaults_and_limits(few_step_bundle):
    preset = PRESETS["lightning-4step"]
    assert few_step_bundle["scheduler"] == {**preset["scheduler"]} and few_step_bundle["scheduler"]["timestep_spacing"] == "trailing"
    assert {k: few_step_bundle["defaults"][k] for k in preset["defaults"]} == preset["defaults"]
    assert few_step_bundle["defaults"]["steps"] == 4 and few_step_bundle["defaults"]["guidance"] == 1.0
    assert few_step_bundle["limits"]["max_steps"] == 4 and few_step_bundle["limits"]["samplers"] == ["euler", "euler_ancestral"]
    assert few_step_bundle["defaults"]["identity_weight"] == 0.3  # the rest of the defaults stay the base's
    assert "sdxl-lightning" in few_step_bundle["licences"]


def test_the_turbo_preset_gives_a_valid_manifest_at_512(few_step_bundle):
    manifest = {k: v for k, v in apply_preset(few_step_bundle, "turbo").items() if k != "extra_sources"}
    jsonschema.validate(manifest, json.loads(SCHEMA_PATH.read_text()))
    assert manifest["defaults"]["width"] == manifest["defaults"]["height"] == 512 >= manifest["limits"]["min_side"]
    assert manifest["defaults"]["sampler"] == "euler_ancestral" and manifest["limits"]["max_steps"] == 4
