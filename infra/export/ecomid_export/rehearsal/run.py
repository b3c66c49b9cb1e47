"""python -m ecomid_export rehearse --work DIR: the operator's path at full size, on this machine, without a byte
of published weights. Writes every real-mode input in its published layout with seeded random weights
(python -m ecomid_export.published --widths real), builds the bundle with the real export and its
verification, then has the GPU function's pipeline load it on CPU, one graph at a time, and generate one
512x512 image in 2 steps (scripts/rehearse-generate.ts). Each stage runs as its own process under
/usr/bin/time -v (wall time, peak RSS) and the memory guard; a summary is written to DIR/rehearsal.json.
Stages already done are kept (the export resumes graph by graph). Not part of CI: hours, 35 GB of disk."""

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import torch

from ..config import REAL
from ..models.denoiser import Denoiser, build_identitynet, build_unet
from .memory_guard import Watchdog, volunteer_for_oom_killer, wait_for_memory

REPO_ROOT = Path(__file__).resolve().parents[4]
EXPORT_DIR = REPO_ROOT / "infra" / "export"
GiB = 1024


def denoiser_fp32_mb() -> float:
    """What onnxruntime's CPU provider holds for the fp16 denoiser: every weight cast to fp32 (onnx.ts explains)."""
    with torch.device("meta"):
        denoiser = Denoiser(build_unet(REAL), build_identitynet(REAL), REAL.cross_attention_dim)
    return sum(p.numel() for p in denoiser.parameters()) * 4 / 2**20


def run_stage(name: str, command: list[str], needed_mb: float, log_path: Path, cwd: Path, patience_s: float) -> dict:
    wait_for_memory(needed_mb, name, patience_s)
    print(f"== {name}: {' '.join(command[:4])} ... (log: {log_path})", flush=True)
    started = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen(["/usr/bin/time", "-v", *command], cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        with Watchdog(process.pid) as watchdog:
            code = process.wait()
    text = log_path.read_text()
    if code != 0:
        reason = " (stopped by the memory watchdog)" if watchdog.tripped else ""
        raise RuntimeError(f"{name} failed with exit code {code}{reason}; the last lines of {log_path}:\n" + "\n".join(text.splitlines()[-25:]))
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)[1])
    figures = {"wall_s": round(time.monotonic() - started, 1), "peak_rss_mb": round(peak_kb / 1024)}
    print(f"   {name}: {figures['wall_s']} s, peak RSS {figures['peak_rss_mb']} MB", flush=True)
    return figures


def graph_sizes(bundle: Path) -> dict[str, int]:
    manifest = json.loads((bundle / "manifest.json").read_text())
    sizes = {f["path"]: f["bytes"] for f in manifest["files"]}
    return {name: sum(sizes[f] for f in [g["file"], *g["external_data"]]) for name, g in manifest["graphs"].items()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecomid_export rehearse", description=__doc__)
    parser.add_argument("--work", type=Path, required=True, help="folder for the inputs (16 GB), bundle (17 GB) and logs")
    parser.add_argument("--patience", type=float, default=1800, help="seconds a stage may wait for free memory")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime threads when generating")
    args = parser.parse_args(argv)
    volunteer_for_oom_killer()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    summary: dict = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "stages": {}}
    published, bundle, generated = work / "published", work / "bundle", work / "generated"

    arguments = published / "export-arguments.txt"
    if not arguments.is_file():
        summary["stages"]["write inputs"] = run_stage(
            "write inputs", [python, "-m", "ecomid_export.published", "--widths", "real", "--out", str(published)],
            3 * GiB, work / "write-inputs.log", EXPORT_DIR, args.patience)
        arguments.write_text(run_output(work / "write-inputs.log"))
    if not (bundle / "manifest.json").is_file():
        summary["stages"]["export"] = run_stage(
            "export", [python, "-u", "-m", "ecomid_export", "--out", str(bundle), "--bundle-id", "ecomid-rehearsal",
                       *arguments.read_text().split()],
            denoiser_fp32_mb() + GiB, work / "export.log", EXPORT_DIR, args.patience)
    summary["export_graphs"] = [line.strip() for line in (work / "export.log").read_text().splitlines()
                                if re.match(r"\s+(\w+: \d|verify|constants|manifest|bundle )", line)]
    summary["graph_bytes"] = graph_sizes(bundle)
    summary["stages"]["generate"] = run_stage(
        "generate", ["npx", "tsx", "scripts/rehearse-generate.ts", str(bundle), str(generated), str(args.threads)],
        denoiser_fp32_mb() + 1.5 * GiB, work / "generate.log", REPO_ROOT, args.patience)
    summary["generation"] = json.loads((generated / "generation.json").read_text())
    (work / "rehearsal.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return 0


def run_output(log_path: Path) -> str:
    """The one line python -m ecomid_export.published prints on stdout: the export's arguments."""
    lines = [line for line in log_path.read_text().splitlines() if line.startswith("--sdxl ")]
    return lines[-1]


def machine() -> str:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
    memory = int(open("/proc/meminfo").readline().split()[1]) / 2**20
    return (f"{fields.get('Model name', '?').strip()}, {fields.get('CPU(s)', '?').strip()} CPUs, "
            f"{memory:.0f} GiB, flags avx512f={'avx512f' in fields.get('Flags', '')}")
