"""The `vidcls` command: fit/test through LightningCLI, the demo, and one-line errors."""

import json
import re
import subprocess
import sys

import lightning as L
import pytest

from vidcls.cli import USAGE, main
from vidcls.datatools.synthetic import CLASSES
from vidcls.models import describe_model, list_models


def test_fit_writes_a_checkpoint_that_test_reuses_with_its_classes(synth_root, tmp_path, monkeypatch, tiny_args,
                                                                    few_classes):
    order = list(reversed(sorted(few_classes)))
    data = ["--data.root", str(synth_root), "--trainer.default_root_dir", str(tmp_path)]
    main(["fit", *tiny_args, *data, "--trainer.max_epochs", "1", "--data.classes", json.dumps(order)])
    checkpoint = next(tmp_path.rglob("*.ckpt"))
    assert (tmp_path / "lightning_logs" / "version_0" / "config.yaml").is_file()
    assert list(tmp_path.rglob("events.out.tfevents.*")), "no TensorBoard log"

    seen = {}

    def record_test(trainer, model, datamodule, ckpt_path=None, **kwargs):
        seen.update(classes=datamodule.classes, model_classes=model.classes, ckpt_path=ckpt_path)

    monkeypatch.setattr(L.Trainer, "test", record_test)
    main(["test", *tiny_args, *data, "--ckpt_path", str(checkpoint)])  # no --data.classes: the checkpoint's win
    assert seen == {"classes": order, "model_classes": order, "ckpt_path": str(checkpoint)}


def test_test_command_logs_the_figures_of_its_report(synth_root, tmp_path, capsys, monkeypatch, tiny_args,
                                                     tiny_checkpoint):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps to the terminal's width
    main(["test", *tiny_args, "--data.root", str(synth_root), "--trainer.default_root_dir", str(tmp_path),
          "--ckpt_path", str(tiny_checkpoint), "--trainer.limit_test_batches", "1.0"])
    out = capsys.readouterr().out
    logged = {name: float(value) for name, value in re.findall(r"test/(\w+)\s*│\s*([\d.]+)", out)}
    report = json.loads(next(tmp_path.rglob("report.json")).read_text())
    assert report["videos"] == len(list((synth_root / "test").rglob("*.mp4")))
    assert set(logged) == {"loss", "top1", "top5", "mean_class_accuracy"}
    for name in ("top1", "top5", "mean_class_accuracy"):  # Lightning's table prints the report's numbers
        assert logged[name] == pytest.approx(report[name], abs=1e-4), name
    (table_row,) = [line for line in out.splitlines() if f"{report['top1']:.4f}" in line and "│" in line
                    and "test/" not in line]  # and so does ours
    assert f"{report['mean_class_accuracy']:.4f}" in table_row


def test_demo_writes_report(tmp_path):
    out = tmp_path / "demo"
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--out", str(out), "--videos", "3", "1", "2", "--epochs", "1"])
    assert exit_.value.code == 0
    report = json.loads((out / "report.json").read_text())
    assert 0 <= report["top1"] <= report["top5"] <= 1
    assert report["classes"] == CLASSES
    assert (out / "data" / "test" / "growing").is_dir()
    assert report["checkpoint"].endswith(".ckpt") and (tmp_path / report["checkpoint"]).is_file()
    for plot in ("curves", "confusion"):
        assert report[plot].endswith(".png") and (tmp_path / report[plot]).is_file()


def test_bad_root_is_one_line_on_stderr(tmp_path, tiny_args):
    missing = tmp_path / "nowhere"
    result = subprocess.run(
        [sys.executable, "-m", "vidcls", "fit", *tiny_args, "--data.root", str(missing),
         "--trainer.default_root_dir", str(tmp_path)],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"vidcls: error: {missing / 'train'}: no such folder"
    assert "Traceback" not in result.stderr


def test_unknown_command_prints_usage_and_fails(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2 and capsys.readouterr().out == USAGE + "\n"
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0 and capsys.readouterr().out == USAGE + "\n"


def test_models_command_lists_every_model_with_its_description(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["models"])
    lines = capsys.readouterr().out.splitlines()
    assert exit_.value.code == 0
    assert [line.split()[0] for line in lines] == list_models()
    assert all(line.split(maxsplit=1)[1] == describe_model(line.split()[0]) for line in lines)
    with pytest.raises(SystemExit):
        main(["models", "x3d*"])
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["x3d_m", "x3d_s", "x3d_xs"]


def test_data_synth_command(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["data", "synth", str(tmp_path), "--train", "1", "--val", "0", "--test", "0"])
    assert exit_.value.code == 0
    assert sorted(p.name for p in (tmp_path / "train").iterdir()) == CLASSES


def corrupt_copy(root, tmp_path, broken_per_class=1):
    """A copy of ``root`` (links) with ``broken_per_class`` unreadable files added to each train class."""
    copy = tmp_path / "data"
    for split in ("train", "val"):
        for video in (root / split).rglob("*.mp4"):
            target = copy / split / video.parent.name / video.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(video)
    for class_dir in (copy / "train").iterdir():
        for n in range(broken_per_class):
            (class_dir / f"broken{n}.mp4").write_bytes(b"\x00garbage" * 50)
    return copy


def test_fit_goes_on_past_bad_videos_and_names_them(synth_root, tmp_path, tiny_args):
    data = corrupt_copy(synth_root, tmp_path)
    main(["fit", *tiny_args, "--data.root", str(data), "--trainer.default_root_dir", str(tmp_path),
          "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "12", "--data.batch_size", "4",
          "--bad_videos.max_fraction", "0.5"])
    (log,) = tmp_path.rglob("bad_videos.csv")
    named = {row.split(",")[0] for row in log.read_text().splitlines()}
    assert named and all(path.endswith(".mp4") and "broken" in path for path in named)


def test_too_many_bad_videos_stop_the_run_with_one_line(synth_root, tmp_path, tiny_args):
    data = corrupt_copy(synth_root, tmp_path, broken_per_class=6)
    result = subprocess.run(
        [sys.executable, "-m", "vidcls", "fit", *tiny_args, "--data.root", str(data),
         "--trainer.default_root_dir", str(tmp_path), "--trainer.max_epochs", "1",
         "--trainer.limit_train_batches", "12"],
        capture_output=True, text=True,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("vidcls: error: ") and "could not be decoded, more than the limit of 5%" in last


def test_multiview_test_reports_every_video_once(synth_root, tmp_path, tiny_args, tiny_checkpoint):
    data = ["--data.root", str(synth_root), "--trainer.default_root_dir", str(tmp_path)]
    main(["test", *tiny_args, *data, "--ckpt_path", str(tiny_checkpoint), "--trainer.limit_test_batches", "1.0",
          "--data.test_clips", "2", "--data.test_crops", "3"])
    report_path = max(tmp_path.rglob("report.json"), key=lambda p: p.stat().st_mtime)
    report = json.loads(report_path.read_text())
    assert report["videos"] == len(list((synth_root / "test").rglob("*.mp4")))
    assert 0 <= report["mean_class_accuracy"] <= 1
    assert (report_path.parent / "per_class.csv").is_file() and (report_path.parent / "confusion.png").is_file()
