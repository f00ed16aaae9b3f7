"""The data-bound advisor: logs the share of training time spent waiting for batches, and advises only when it is large."""

import subprocess
import time

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from vidcls.data.datamodule import VideoDataModule
from vidcls.training.classifier import VideoClassifier
from vidcls.training.config import run_lightning
from vidcls.training.data_advisor import DataBoundAdvisor, available_cores
from vidcls.training.run import link_run

CLASSES = ["a", "b", "c", "d"]


class ClipsInMemory(Dataset):
    """Eight random clips, ready: a loader that costs next to nothing."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> dict:
        return {"video": torch.randn(3, 4, 16, 16), "label": index % 4, "index": index}


class HeavyStep(VideoClassifier):
    """A network whose training step takes 0.2 s, as a large model's does on a GPU."""

    def training_step(self, batch, batch_idx):
        time.sleep(0.2)
        return super().training_step(batch, batch_idx)


class Delayed:
    """A transform made 0.2 s slower per clip: a loader that cannot keep up."""

    def __init__(self, transform):
        self.transform = transform

    def __call__(self, frames):
        time.sleep(0.2)
        return self.transform(frames)


class SlowedVideos(VideoDataModule):
    def setup(self, stage):
        super().setup(stage)
        self.datasets["train"].transform = Delayed(self.datasets["train"].transform)


def fit(model, advisor, tmp_path, **data):
    trainer = L.Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0, accelerator="cpu", logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, callbacks=[advisor], default_root_dir=tmp_path)
    trainer.fit(model, **data)
    return trainer.logged_metrics


def test_a_loader_that_keeps_up_gets_no_advice(tmp_path):
    advisor = DataBoundAdvisor()
    logged = fit(HeavyStep("simple3d", classes=CLASSES), advisor, tmp_path,
                 train_dataloaders=DataLoader(ClipsInMemory(), batch_size=4))
    assert logged["perf/data_wait_fraction"] < 0.2 and advisor.advice is None
    assert 0 < logged["perf/clips_per_s"] <= 8 / 0.4  # 8 clips took at least the two steps' 0.4 s


def test_a_slow_loader_gets_one_line_with_its_figures_and_the_cures(synth_root, tmp_path):
    advisor = DataBoundAdvisor()
    data = SlowedVideos(root=str(synth_root), batch_size=4, num_workers=0, num_frames=4, crop_size=32, min_scale=32,
                        max_scale=36, eval_resize=32)
    model = VideoClassifier("simple3d")
    link_run(model, data)
    logged = fit(model, advisor, tmp_path, datamodule=data)
    fraction, clips_per_s = float(logged["perf/data_wait_fraction"]), float(logged["perf/clips_per_s"])
    assert fraction > 0.5 and clips_per_s <= 8 / 1.6  # 8 clips waited at least 8 x 0.2 s
    advice = advisor.advice
    assert advice is not None and "\n" not in advice
    assert f"waited for data {fraction:.0%}" in advice and f"({clips_per_s:.1f} clips/s)" in advice
    cores = available_cores()
    assert f"--data.num_workers {cores} (0 now; {cores} cores available)" in advice
    # the synthetic videos' keyframes, counted by FFmpeg itself: one per file of 36 frames
    video = data.datasets["train"].samples[0].path
    flags = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags",
                            "-of", "csv=p=0", str(video)], capture_output=True, text=True, check=True).stdout.split()
    interval = len(flags) / sum(flag.startswith("K") for flag in flags)
    assert f"`vidcls data prepare` (the training files have a keyframe every {interval:.0f} frames" in advice
    assert "decode_device cuda" not in advice  # no GPU here


def test_fit_has_the_advisor_with_the_threshold_given(synth_root, tiny_args):
    cli = run_lightning([*tiny_args, "--data.root", str(synth_root), "--data_advisor.max_wait_fraction", "0.5"], run=False)
    (advisor,) = [callback for callback in cli.trainer.callbacks if isinstance(callback, DataBoundAdvisor)]
    assert advisor.max_wait_fraction == 0.5
