"""The GPU check's bookkeeping: its time budget, failures that do not stop it, and the report's reading."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def gpu_check(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the benchmarks import each other from their folder
    import gpu_check

    return gpu_check


def test_a_budget_too_small_skips_every_step_and_still_writes_the_report(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHON": sys.executable, "GPU_CHECK_BUDGET": "10", "GPU_CHECK_WORK": str(tmp_path / "work")}
    result = subprocess.run(["bash", str(BENCHMARKS / "gpu_check.sh"), "--dry-run", str(out)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    steps = {step["step"]: step["status"] for step in json.loads((out / "gpu_check.json").read_text())["steps"]}
    assert list(steps) == ["environment", "probe", "videos", "train, CPU decoding", "train, GPU decoding", "decode",
                           "predict", "train, compile"]
    assert re.fullmatch(r"skipped: -\d+ s left of the budget, it needs 10", steps["probe"])
    assert steps["train, compile"].startswith("skipped: not in a dry run")
    markdown = (out / "gpu_check.md").read_text()
    assert re.search(r"^\| decode \| skipped: -\d+ s left of the budget, it needs 30 \| 0 \|$", markdown, re.MULTILINE)
    assert (out / "gpu_check.log").read_text().count("== ") >= 2  # the log holds what the run printed


def test_a_failing_figure_is_recorded_and_the_next_one_runs(gpu_check, tmp_path):
    records = gpu_check.Records(tmp_path / "records.jsonl")

    def fails() -> dict:
        raise RuntimeError("NVDEC is not there\nsecond line")

    figures = [gpu_check.Figure({"name": "first"}, fails), gpu_check.Figure({"name": "second"}, lambda: {"clips_per_s": 3.0}),
               gpu_check.Figure({"name": "third"}, fails, skip="CUDA is not available")]
    gpu_check.run_figures(records, "decode", figures, deadline=float("inf"))
    assert records.read() == [
        {"part": "decode", "name": "first", "error": "RuntimeError: NVDEC is not there"},
        {"part": "decode", "name": "second", "clips_per_s": 3.0},
        {"part": "decode", "name": "third", "skipped": "CUDA is not available"},
    ]


def test_no_figure_starts_past_the_deadline(gpu_check, tmp_path):
    records = gpu_check.Records(tmp_path / "records.jsonl")

    def must_not_run() -> dict:
        raise AssertionError("measured after the deadline")

    gpu_check.run_figures(records, "train", [gpu_check.Figure({"model": "x3d_m"}, must_not_run)], deadline=0.0)
    [record] = records.read()
    assert record["skipped"].startswith("out of time")


def train_row(model: str, ratio: float, model_only: float) -> dict:
    return {"part": "train", "model": model, "clip": "8x224²", "batch": 8, "switches": "amp+channels_last",
            "model_only": model_only, "end_to_end": round(model_only * ratio, 2), "ratio": ratio, "workers": 16,
            "decode_device": "cpu", "model_only_peak_gib": 10.0, "end_to_end_peak_gib": 10.5}


def loader_row(model: str, clips_per_s: float) -> dict:
    return {"part": "decode", "video": "training set, prepared", "clip": model, "decoding": "selective PyAV, CPU",
            "device": "cpu", "workers": 16, "clips_per_s": clips_per_s, "worker_rss_mb": {"peak": 900.0}}


def test_the_report_says_what_bounds_end_to_end_training(tmp_path):
    rows = [train_row("slow_r50", 0.6, 100.0), loader_row("slow_r50", 55.0),  # the loader is slower than the model
            train_row("x3d_m", 0.7, 200.0), loader_row("x3d_m", 500.0),  # the loader keeps up: the step is the bound
            train_row("x3d_s", 0.95, 300.0),
            {"part": "train", "model": "x3d_xs", "switches": "all", "workers": 16, "decode_device": "cpu",
             "error": "TimeoutError: compile"}]
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    (work / "records.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    log = tmp_path / "log"
    log.write_text("WARNING Skipping unreadable video (replaced by another): a.mp4: moov atom not found\n")
    subprocess.run([sys.executable, str(BENCHMARKS / "gpu_check.py"), "report", "--work", str(work), "--out", str(out),
                    "--log", str(log)], check=True, timeout=60)
    result = json.loads((out / "gpu_check.json").read_text())
    readings = {row["model"]: row["bound"] for row in result["goal"]}
    assert readings["slow_r50"].startswith("not met: the loader alone gives 55 clips/s, under model-only 100")
    assert readings["x3d_m"].startswith("not met, though the loader alone keeps up (500 clips/s")
    assert "host-to-device copies" in readings["x3d_m"]
    assert readings["x3d_s"] == "met"
    assert result["videos_replaced_as_unreadable"] == 1
    markdown = (out / "gpu_check.md").read_text()
    assert "| slow_r50 | 8x224² | 8 | amp+channels_last | 100.00 |  | 60.00 | 60% | 16 workers, cpu decoding | 10.0 / 10.5 |" \
        in markdown
    assert "- x3d_xs, all, 16 workers, cpu decoding: TimeoutError: compile" in markdown
