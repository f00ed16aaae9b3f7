"""DDP on the CPU (gloo): two processes must report the same test metrics as one, and say one figure for each."""

import json
import os
import re
import subprocess
import sys

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def vidcls(*args, cwd):
    result = subprocess.run([sys.executable, "-m", "vidcls", *args], capture_output=True, text=True, cwd=cwd,
                            env={**os.environ, "COLUMNS": "200"})  # rich wraps tables to the terminal's width
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_ddp_fit_and_test_match_a_single_process(synth_root, tmp_path, tiny_args):
    # 15 test videos: two ranks get 8 each, one a padding repeat that must not be counted twice
    videos = sorted((synth_root / "test").rglob("*.mp4"))[:15]
    test_list = tmp_path / "test.txt"
    test_list.write_text("".join(f"{path} {path.parent.name}\n" for path in videos))
    common = [*tiny_args, "--data.root", str(synth_root), "--data.test_list", str(test_list),
              "--trainer.limit_test_batches", "1.0", "--data.test_clips", "2"]

    ddp = ["--trainer.strategy", "ddp", "--trainer.devices", "2"]
    vidcls("fit", *common, *ddp, "--trainer.max_epochs", "1", "--trainer.default_root_dir", str(tmp_path / "fit"),
           cwd=tmp_path)
    checkpoint = next((tmp_path / "fit").rglob("*.ckpt"))

    reports, printed = {}, {}
    for name, extra in {"single": ["--trainer.devices", "1"], "ddp": ddp}.items():
        root = tmp_path / name
        printed[name] = vidcls("test", *common, *extra, "--ckpt_path", str(checkpoint),
                               "--trainer.default_root_dir", str(root), cwd=tmp_path).stdout
        reports[name] = json.loads(next(root.rglob("report.json")).read_text())
    assert reports["single"]["videos"] == reports["ddp"]["videos"] == 15
    for key in ("top1", "top5", "mean_class_accuracy"):
        assert abs(reports["single"][key] - reports["ddp"][key]) < 1e-6, key

    # under DDP, the logged figures (Lightning's table, TensorBoard) and our table are report.json's: each video once
    report, out = reports["ddp"], printed["ddp"]
    shown = {name: float(value) for name, value in re.findall(r"test/(\w+)\s*│\s*([\d.]+)", out)}
    events = EventAccumulator(str(next((tmp_path / "ddp").rglob("events.out.tfevents.*")).parent))
    events.Reload()
    for key in ("top1", "top5", "mean_class_accuracy"):
        assert shown[key] == pytest.approx(report[key], abs=1e-6), key
        assert events.Scalars(f"test/{key}")[-1].value == pytest.approx(report[key], abs=1e-6), key
    assert "Video-level test results (15 videos)" in out
    (row,) = [line for line in out.splitlines() if line.startswith("│ ") and "test/" not in line and "worst" not in line][:1]
    assert [cell.strip() for cell in row.split("│")[1:4]] == [f"{report[key]:.4f}" for key in ("top1", "top5", "mean_class_accuracy")]


def test_ddp_multilabel_validation_and_test_map_match_a_single_process(tag_lists, tmp_path, tiny_args):
    """torchmetrics gathers every rank's scores for val/mAP; the test gathers per-video scores: both equal one process's."""
    common = [*tiny_args, "--data.train_list", str(tag_lists["train"]), "--data.val_list", str(tag_lists["val"]),
              "--data.test_list", str(tag_lists["test"]), "--trainer.limit_val_batches", "1.0",
              "--trainer.limit_test_batches", "1.0"]  # 12 val and 16 test videos: no padding repeats on two ranks
    ddp = ["--trainer.strategy", "ddp", "--trainer.devices", "2"]
    vidcls("fit", *common, *ddp, "--trainer.max_epochs", "1", "--trainer.default_root_dir", str(tmp_path / "fit"),
           cwd=tmp_path)
    checkpoint = next((tmp_path / "fit").rglob("*.ckpt"))
    figures = {}
    for name, extra in {"single": ["--trainer.devices", "1"], "ddp": ddp}.items():
        out = vidcls("validate", *common, *extra, "--ckpt_path", str(checkpoint), "--trainer.default_root_dir",
                     str(tmp_path / f"val_{name}"), cwd=tmp_path).stdout
        (val_map,) = re.findall(r"val/mAP\s*│\s*([\d.]+)", out)
        vidcls("test", *common, *extra, "--ckpt_path", str(checkpoint), "--trainer.default_root_dir",
               str(tmp_path / f"test_{name}"), cwd=tmp_path)
        report = json.loads(next((tmp_path / f"test_{name}").rglob("report.json")).read_text())
        figures[name] = (float(val_map), report["mAP"], report["videos"])
    assert figures["single"][2] == figures["ddp"][2] == 16
    assert figures["ddp"][:2] == pytest.approx(figures["single"][:2], abs=1e-6)
