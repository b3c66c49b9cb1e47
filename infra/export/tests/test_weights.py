"""Reading weight files without holding them in memory: the mapped views equal what the safetensors library reads."""

import torch
from safetensors.torch import load_file, save_file

from ecomid_export.real.weights import mapped_safetensors, read_tensors


def test_mapped_safetensors_equal_the_library_reader_for_every_dtype_and_shape(tmp_path):
    g = torch.Generator().manual_seed(0)
    tensors = {"f32": torch.randn(3, 5, generator=g), "f16": torch.randn(7, generator=g).half(),
               "bf16": torch.randn(2, 2, 2, generator=g).bfloat16(), "i64": torch.arange(77).unsqueeze(0),
               "scalar": torch.tensor(4.6), "empty": torch.zeros(0, 4), "u8": torch.arange(5, dtype=torch.uint8)}
    save_file(tensors, str(tmp_path / "w.safetensors"), metadata={"format": "pt"})
    mapped, library = mapped_safetensors(tmp_path / "w.safetensors"), load_file(str(tmp_path / "w.safetensors"))
    assert set(mapped) == set(library)
    for name, value in library.items():
        assert mapped[name].dtype == value.dtype and mapped[name].shape == value.shape, name
        assert torch.equal(mapped[name], value), name


def test_torch_files_are_read_mapped_and_legacy_ones_still_read(tmp_path):
    state = {"w": torch.randn(4, 4)}
    torch.save(state, tmp_path / "zip.pt")
    torch.save(state, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    for name in ("zip.pt", "legacy.pt"):
        assert torch.equal(read_tensors(tmp_path / name)["w"], state["w"])
