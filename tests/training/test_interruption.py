"""Runs that are killed, interrupted or diverge: resume, clean exit, clear stop, same seed same run."""

import os
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch

from vidcls.cli import main
from vidcls.data.datamodule import VideoDataModule
from vidcls.errors import VidclsError
from vidcls.training.classifier import VideoClassifier
from vidcls.training.run import link_run

PERIODIC = """
trainer:
  callbacks:
    - class_path: lightning.pytorch.callbacks.ModelCheckpoint
      init_args: {every_n_train_steps: 2, save_top_k: 0, save_last: true}
"""
STEPS_PER_EPOCH = 12  # 48 training videos, batch 4


def fit_command(tiny_args, synth_root, run_dir, config, *extra):
    return [sys.executable, "-m", "vidcls", "fit", "--config", str(config), *tiny_args, "--data.root", str(synth_root),
            "--trainer.limit_train_batches", "1.0", "--trainer.max_epochs", "3",
            "--trainer.default_root_dir", str(run_dir), *extra]


def wait_for_checkpoint_at(run_dir, step, process, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for path in run_dir.rglob("last.ckpt"):
            try:
                if torch.load(path, map_location="cpu", weights_only=True)["global_step"] >= step:
                    return
            except Exception:  # caught mid-write: look again
                pass
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint at step {step} (exit code {process.poll()})")


def last_checkpoint(run_dir):
    newest = max(run_dir.rglob("last.ckpt"), key=lambda p: p.stat().st_mtime)
    return torch.load(newest, map_location="cpu", weights_only=True)


def test_kill_9_mid_epoch_then_resume_with_ckpt_path_last(synth_root, tmp_path, tiny_args):
    config = tmp_path / "periodic.yaml"
    config.write_text(PERIODIC)
    run_dir = tmp_path / "run"
    process = subprocess.Popen(fit_command(tiny_args, synth_root, run_dir, config), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_for_checkpoint_at(run_dir, STEPS_PER_EPOCH + 4, process)  # inside the second epoch
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed = last_checkpoint(run_dir)
    assert killed["epoch"] == 1 and 0 < killed["global_step"] % STEPS_PER_EPOCH

    result = subprocess.run(fit_command(tiny_args, synth_root, run_dir, config, "--ckpt_path", "last"),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Restoring states from the checkpoint path at" in result.stderr
    finished = last_checkpoint(run_dir)
    assert finished["global_step"] == 3 * STEPS_PER_EPOCH and finished["epoch"] == 2


def test_sigterm_saves_and_exits_cleanly(synth_root, tmp_path, tiny_args):
    config = tmp_path / "rare.yaml"
    config.write_text(PERIODIC.replace("every_n_train_steps: 2", "every_n_train_steps: 1000"))
    run_dir = tmp_path / "run"
    process = subprocess.Popen(fit_command(tiny_args, synth_root, run_dir, config, "--trainer.max_epochs", "100"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not list(run_dir.rglob("events.out.tfevents.*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # into training
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr[-3000:]
    (path,) = re.findall(r"SIGTERM: saved (\S+); resume with --ckpt_path last", stderr)
    assert Path(path).name == "last.ckpt" and Path(path).is_relative_to(run_dir)
    saved = torch.load(path, map_location="cpu", weights_only=True)
    assert 0 < saved["global_step"] < 100 * STEPS_PER_EPOCH


def test_ckpt_path_last_without_checkpoint_is_one_line(synth_root, tmp_path, tiny_args, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fit", *tiny_args, "--data.root", str(synth_root), "--trainer.default_root_dir", str(tmp_path),
              "--ckpt_path", "last"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"vidcls: error: {tmp_path}: no checkpoint to resume from (--ckpt_path last looks under trainer.default_root_dir)")


class ExplodingModel(torch.nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.linear = torch.nn.Linear(1, num_classes)

    def forward(self, clips):
        return self.linear(clips.mean(dim=(1, 2, 3, 4))[:, None]) * float("nan")


@pytest.mark.parametrize("mode", ["stop", "skip"])
def test_nonfinite_loss_stops_naming_the_step_or_is_skipped(synth_root, tmp_path, mode):
    datamodule = VideoDataModule(root=str(synth_root), batch_size=4, num_workers=0, num_frames=2, crop_size=16,
                                 min_scale=16, max_scale=16, eval_resize=16)
    classifier = VideoClassifier("simple3d", nonfinite_loss=mode)
    link_run(classifier, datamodule)
    classifier.network = ExplodingModel(len(datamodule.classes))
    trainer = L.Trainer(max_epochs=1, limit_train_batches=3, limit_val_batches=0, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, default_root_dir=tmp_path)
    before = {k: v.clone() for k, v in classifier.network.state_dict().items()}
    if mode == "stop":
        with pytest.raises(VidclsError, match=r"training loss is nan at step 0 \(epoch 0, batch 0\)"):
            trainer.fit(classifier, datamodule)
    else:
        trainer.fit(classifier, datamodule)  # runs to the end; no weight changes
        for key, value in classifier.network.state_dict().items():
            assert torch.equal(value, before[key])


def test_same_seed_gives_the_same_run(synth_root, tmp_path, tiny_args):
    results = []
    for run in ("a", "b"):
        main(["fit", *tiny_args, "--data.root", str(synth_root), "--trainer.max_epochs", "1", "--seed_everything", "3",
              "--data.num_workers", "1", "--trainer.default_root_dir", str(tmp_path / run)])
        checkpoint = torch.load(next((tmp_path / run).rglob("*.ckpt")), map_location="cpu", weights_only=True)
        results.append(checkpoint["state_dict"])
    assert results[0].keys() == results[1].keys()
    for key in results[0]:
        assert torch.equal(results[0][key], results[1][key]), key


class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


MARKER = None


def test_checkpoint_with_pickled_code_is_refused_and_never_run(synth_root, tmp_path, tiny_args, capsys):
    global MARKER
    MARKER = tmp_path / "pwned"
    evil = tmp_path / "evil.ckpt"
    with open(evil, "wb") as handle:
        pickle.dump({"state_dict": {}, "hyper_parameters": {"model": "simple3d"}, "x": Payload()}, handle)
    for argv in (["test", *tiny_args, "--data.root", str(synth_root), "--ckpt_path", str(evil)],
                 ["predict", "--checkpoint", str(evil), str(next(synth_root.rglob("*.mp4")))]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1] == (
            f"vidcls: error: {evil}: not a checkpoint, or one holding objects other than weights; refused (never unpickled)")
    assert not MARKER.exists()
