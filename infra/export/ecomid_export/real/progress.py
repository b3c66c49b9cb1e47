"""Resuming a real export where it stopped: each verified graph is recorded beside the bundle folder (the folder
holds only the bundle's files) with its files' sizes and the inputs it came from, so a run that failed (a verification over its bound, a killed process) keeps
what it had finished, and the next run with the same inputs goes on from the first graph not recorded."""

import json
from pathlib import Path



def inputs_fingerprint(args) -> dict:
    """What decides the graphs: every input file's path, size and modification time, and the options."""
    def describe(path) -> list | None:
        if path is None:
            return None
        files = sorted(p for p in Path(path).rglob("*") if p.is_file()) if Path(path).is_dir() else [Path(path)]
        return [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in files]

    names = ("sdxl", "identitynet", "pulid", "instantid", "eva_clip", "facexlib", "antelopev2", "vae", "lightning_unet",
             "inpaint_controlnet", "softedge_controlnet", "pidinet", "hed")
    return {"inputs": {n: describe(getattr(args, n, None)) for n in names},
            "loras": [describe(p) for p in getattr(args, "lora", None) or []],
            "precision": getattr(args, "precision", "fp16"), "widths": getattr(args, "widths", "real")}


class ExportProgress:
    def __init__(self, out_dir: Path, fingerprint: dict, log=print):
        self.path = out_dir.parent / f".{out_dir.name}.export-progress.json"
        self.out_dir = out_dir
        self.fingerprint = fingerprint
        self.graphs: dict[str, dict] = {}
        if self.path.is_file():
            saved = json.loads(self.path.read_text())
            if saved.get("fingerprint") == fingerprint:
                self.graphs = saved["graphs"]
                log(f"resuming: {len(self.graphs)} graph(s) finished by an earlier run ({', '.join(self.graphs) or 'none'})")
            else:
                log(f"{self.path.name}: from other inputs or options; starting over")

    def finished(self, name: str) -> dict | None:
        """The graph's manifest entry, if an earlier run verified it and its files are still as it left them."""
        record = self.graphs.get(name)
        if record is None:
            return None
        intact = all((self.out_dir / f).is_file() and (self.out_dir / f).stat().st_size == size for f, size in record["sizes"].items())
        return record["entry"] if intact else None

    def record(self, name: str, entry: dict) -> None:
        files = [entry["file"], *entry.get("external_data", [])]
        self.graphs[name] = {"entry": entry, "sizes": {f: (self.out_dir / f).stat().st_size for f in files}}
        self.path.write_text(json.dumps({"fingerprint": self.fingerprint, "graphs": self.graphs}, indent=1))

    def complete(self) -> None:
        """The bundle is whole: the record is not part of it."""
        self.path.unlink(missing_ok=True)
