"""A real export that stops (a graph over its bound, a killed process) keeps the graphs it had verified, and the
next run with the same inputs goes on from the first one it had not."""

from types import SimpleNamespace

import pytest

from ecomid_export import bundle_writer
from ecomid_export.bundle_writer import export_all
from ecomid_export.config import TINY
from ecomid_export.graphs import face
from ecomid_export.graphs.common import generator, randn
from ecomid_export.models.resampler import Resampler
from ecomid_export.onnx_export import VerificationError
from ecomid_export.real.progress import ExportProgress, inputs_fingerprint


def _plan(builds: list[str]):
    def resampler_step(name: str):
        spec = face.resampler_spec(TINY, ["instantid"])
        spec.name = name

        def build():
            builds.append(name)
            return Resampler(TINY.resampler, TINY.cross_attention_dim).eval()

        return build, spec, lambda d, s: {"arcface_embedding": randn((d["batch"], 1, 512), generator(s), 10.0)}

    return [resampler_step("resampler"), resampler_step("id_encoder")]  # two graphs with the resampler's contract


def test_a_stopped_export_resumes_after_its_last_verified_graph(tmp_path, monkeypatch, published_inputs):
    args = SimpleNamespace(**{k: getattr(published_inputs, k) for k in ("sdxl", "identitynet", "pulid", "instantid",
                                                                          "eva_clip", "facexlib", "antelopev2", "vae")})
    out = tmp_path / "bundle"
    builds: list[str] = []
    real_compare = bundle_writer.compare_with_onnxruntime

    def fail_on_second(expected, spec, *rest):
        if spec.name == "id_encoder":
            raise VerificationError("id_encoder: max error over its bound")
        return real_compare(expected, spec, *rest)

    monkeypatch.setattr(bundle_writer, "compare_with_onnxruntime", fail_on_second)
    with pytest.raises(VerificationError):
        export_all(_plan(builds), out, ExportProgress(out, inputs_fingerprint(args)))
    assert builds == ["resampler", "id_encoder"]

    monkeypatch.setattr(bundle_writer, "compare_with_onnxruntime", real_compare)
    entries = export_all(_plan(builds), out, ExportProgress(out, inputs_fingerprint(args)))
    assert builds == ["resampler", "id_encoder", "id_encoder"]  # the verified graph was not built again
    assert set(entries) == {"resampler", "id_encoder"}

    (out / "graphs" / "resampler.onnx").write_bytes(b"truncated")  # a file changed since: that graph is redone
    export_all(_plan(builds), out, ExportProgress(out, inputs_fingerprint(args)))
    assert builds[3:] == ["resampler"]


def test_other_inputs_start_over(tmp_path):
    out = tmp_path / "bundle"
    out.mkdir()
    progress = ExportProgress(out, {"inputs": "a"})
    (out / "graphs").mkdir()
    (out / "graphs" / "x.onnx").write_bytes(b"0")
    progress.record("x", {"file": "graphs/x.onnx", "external_data": []})
    assert ExportProgress(out, {"inputs": "a"}).finished("x") is not None
    assert ExportProgress(out, {"inputs": "b"}).finished("x") is None
