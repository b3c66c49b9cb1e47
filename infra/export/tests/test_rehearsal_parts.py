"""The rehearsal's small parts (the whole runs by hand: hours and 35 GB): its memory guard and stage runner, and
the GPU precision check's loop, on tiny inputs."""

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import REPO_ROOT
from ecomid_export.rehearsal import memory_guard
from ecomid_export.rehearsal.run import run_stage


def test_a_stage_waits_for_memory_and_gives_up_saying_how_much_it_needed(monkeypatch):
    monkeypatch.setattr(memory_guard, "available_mb", lambda: 4096.0)
    monkeypatch.setattr(memory_guard.time, "sleep", lambda _: None)
    memory_guard.wait_for_memory(1024, "export", patience_s=0, log=lambda _: None)  # 1 GiB + the floor fit in 4 GiB
    with pytest.raises(MemoryError, match=r"export needs about 16\.0 GiB free; 4\.0 GiB is"):
        memory_guard.wait_for_memory(16 * 1024, "export", patience_s=0, log=lambda _: None)


def test_the_watchdog_stops_the_stage_before_memory_runs_out(monkeypatch):
    monkeypatch.setattr(memory_guard, "available_mb", lambda: memory_guard.FLOOR_MB - 1.0)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    started = time.monotonic()
    with memory_guard.Watchdog(child.pid, log=lambda _: None) as watchdog:
        code = child.wait(timeout=30)
    assert watchdog.tripped and code == -9 and time.monotonic() - started < 10


def test_a_stage_reports_its_wall_time_and_peak_rss(tmp_path):
    figures = run_stage("allocate", [sys.executable, "-c", "b = bytearray(200 * 2**20)"], 0, tmp_path / "stage.log", tmp_path, 0)
    assert figures["peak_rss_mb"] >= 200 and figures["wall_s"] > 0


def test_a_failed_stage_says_so_with_its_log(tmp_path):
    with pytest.raises(RuntimeError, match=r"(?s)broken failed with exit code 3.*boom"):
        run_stage("broken", [sys.executable, "-c", "print('boom'); raise SystemExit(3)"], 0, tmp_path / "stage.log", tmp_path, 0)


def test_precision_check_runs_the_sampling_loop_and_reports_no_error_for_one_graph_against_itself():
    graph = REPO_ROOT / "bundles" / "tiny" / "graphs" / "denoiser.onnx"
    out = subprocess.run([sys.executable, str(REPO_ROOT / "infra" / "bench" / "precision_check.py"), "--fp16", str(graph),
                          "--fp32", str(graph), "--provider", "CPUExecutionProvider", "--size", "64", "--steps", "3"],
                         check=True, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}).stdout
    report = json.loads(out)
    assert report["eps_relative_error"]["max"] == 0.0 and report["final_latents_relative_error"] == 0.0
    assert len(report["eps_relative_error"]["per_step"]) == 3 and report["seconds_per_step"]["fp16"] > 0
