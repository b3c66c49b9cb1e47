import pytest

from ecomid_export.__main__ import parse_args


def test_real_mode_names_every_missing_input(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--out", "x", "--sdxl", "sdxl.safetensors"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    for flag in ("--identitynet", "--pulid", "--instantid", "--eva-clip", "--facexlib", "--antelopev2"):
        assert flag in err
    assert "--sdxl," not in err


def test_tiny_mode_needs_no_weights():
    args = parse_args(["--tiny-random", "--out", "bundles/tiny"])
    assert args.tiny_random and args.sdxl is None
