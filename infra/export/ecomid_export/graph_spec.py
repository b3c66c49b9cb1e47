"""Declared inputs/outputs of one ONNX graph: the single source for export axes, checks and the manifest."""

from dataclasses import dataclass, field

Dim = int | str


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[Dim, ...]
    dtype: str = "float32"

    def to_manifest(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}

    def concrete_shape(self, dims: dict[str, int]) -> tuple[int, ...]:
        return tuple(d if isinstance(d, int) else dims[d] for d in self.shape)


@dataclass
class GraphSpec:
    name: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    sources: list[str]
    precision: str = "float32"
    notes: str | None = None
    # Largest |onnxruntime - torch| / max(1, max|torch|) the built-in verification accepts; None (float32 graphs):
    # derived from the exported graph's rounding count (float_error.py).
    tolerance: float | None = None
    external_data: bool = False
    # ControlNet name -> its scale input: the ControlNet runs inside an ONNX If, only when a row's scale is not 0
    # (controlnet_gates.py).
    gates: dict[str, str] = field(default_factory=dict)
    example_dims: dict[str, int] = field(default_factory=dict)
    verify_dims: dict[str, int] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return f"graphs/{self.name}.onnx"

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        axes = {}
        for t in [*self.inputs, *self.outputs]:
            named = {i: d for i, d in enumerate(t.shape) if isinstance(d, str)}
            if named:
                axes[t.name] = named
        return axes

    def to_manifest(self, opset: int, external_files: list[str]) -> dict:
        entry = {
            "file": self.file,
            "external_data": external_files,
            "inputs": [t.to_manifest() for t in self.inputs],
            "outputs": [t.to_manifest() for t in self.outputs],
            "precision": self.precision,
            "opset": opset,
            "sources": self.sources,
        }
        if self.notes:
            entry["notes"] = self.notes
        return entry
