"""Rebuilding the tiny bundle reproduces the committed files bit for bit (single-threaded torch, fixed seeds).

If this fails after an intentional change, rebuild the committed bundle:
    infra/export/.venv/bin/python -m ecomid_export --tiny-random --out bundles/tiny
"""

import filecmp

from ecomid_export.__main__ import main


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_tiny_bundle_and_references_rebuild_bit_for_bit(tmp_path, tiny_bundle, images_dir):
    assert main(["--tiny-random", "--out", str(tmp_path), "--images", str(images_dir)]) == 0
    assert _files(tmp_path) == _files(tiny_bundle)
    differing = [f for f in _files(tiny_bundle) if not filecmp.cmp(tmp_path / f, tiny_bundle / f, shallow=False)]
    assert differing == []
