"""Is training waiting for its data? Measured every epoch, and when it is, one line saying what to change.

Video training is usually bound by decoding, and it does not show: the GPU just idles. The
:class:`DataBoundAdvisor` times how long each training step waits for its batch (from one
step's end to the next one's start: the loader, the copy to the device) against the epoch's
training time, logs both figures, and past a threshold names the cures that apply here.
"""

from __future__ import annotations

import statistics
import time

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.data import extract_batch_size

from vidcls.datatools.prepare import PrepareConfig, keyframe_interval
from vidcls.errors import VideoReadError
from vidcls.io import available_cores

# Files whose keyframe interval is measured for the advice: a few say what the dataset's encoder did.
SAMPLED_FILES = 5


class DataBoundAdvisor(L.Callback):
    """Logs ``perf/data_wait_fraction`` and ``perf/clips_per_s`` per training epoch; advises once when data is the bottleneck.

    ``perf/data_wait_fraction`` is the share of the epoch's training time (validation excluded)
    spent between one step's end and the next step's start; ``perf/clips_per_s`` is the clips
    trained per second over the same time, summed over processes. When the wait exceeds
    ``max_wait_fraction``, one line after the epoch names the figures and the cures that apply:
    more DataLoader workers (naming the cores available), ``vidcls data prepare`` (naming the
    keyframe interval of a few training files), decoding on the GPU. It is said once per run.
    """

    def __init__(self, max_wait_fraction: float = 0.2):
        self.max_wait_fraction = max_wait_fraction
        self.advice: str | None = None  # the line said, once it is
        self._epoch_start = self._last_step_end = self._validation_start = None
        self._waited = self._paused = 0.0
        self._clips = 0

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.advice = None

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start_epoch()

    def _start_epoch(self) -> None:
        self._epoch_start = self._last_step_end = time.perf_counter()
        self._waited = self._paused = 0.0
        self._clips = 0

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: object, batch_idx: int) -> None:
        if self._epoch_start is None:  # resumed mid-epoch: Lightning starts no epoch, so time from the first batch
            self._start_epoch()
        self._waited += time.perf_counter() - self._last_step_end
        self._clips += extract_batch_size(batch)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: object, batch: object,
                           batch_idx: int) -> None:
        self._last_step_end = time.perf_counter()

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._validation_start = time.perf_counter()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking and self._epoch_start is not None:  # validation is not waiting for data
            paused = time.perf_counter() - self._validation_start
            self._paused += paused
            self._last_step_end += paused

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._epoch_start is None:  # resumed from an epoch's end: no batch of it ran here, nothing to say
            return
        trained = self._last_step_end - self._epoch_start - self._paused
        self._epoch_start = None
        if not self._clips or trained <= 0:
            return
        fraction, clips_per_s = self._waited / trained, self._clips / trained
        pl_module.log("perf/data_wait_fraction", fraction, sync_dist=True)  # the mean over processes
        pl_module.log("perf/clips_per_s", clips_per_s, sync_dist=True, reduce_fx="sum")
        if fraction > self.max_wait_fraction and self.advice is None:
            each = " per process" if trainer.world_size > 1 else ""
            self.advice = (
                f"Training waited for data {fraction:.0%} of epoch {trainer.current_epoch}'s {trained:.1f} s"
                f" ({clips_per_s:.1f} clips/s{each}): the data loader is the bottleneck. {_cures(trainer)}"
            )
            rank_zero_info(self.advice)


def _cures(trainer: L.Trainer) -> str:
    """The cures that apply to this run, with the figures that say so."""
    cures = []
    workers = getattr(trainer.train_dataloader, "num_workers", 0)
    processes = max(trainer.num_devices, 1)  # training processes on this machine share its cores
    cores = available_cores() // processes
    if workers < cores:
        shared = f" for each of {processes} processes" if processes > 1 else ""
        cures.append(f"more workers: --data.num_workers {cores} ({workers} now; {cores} cores available{shared})")
    interval = _keyframe_interval(trainer.datamodule)
    target = PrepareConfig().gop
    if interval is not None and interval > target:
        cures.append(f"`vidcls data prepare` (the training files have a keyframe every {interval:.0f} frames;"
                     f" prepared files have one every {target})")
    decode_device = getattr(getattr(trainer.datamodule, "hparams", None), "decode_device", None)
    if torch.cuda.is_available() and decode_device == "cpu":
        cures.append("GPU decoding: --data.decode_device cuda")
    if not cures:
        return "Every core has a worker and the files are prepared: a faster disk or smaller clips would help."
    return f"Try {'; '.join(cures)}."


def _keyframe_interval(datamodule: object) -> float | None:
    """Median frames per keyframe of a few training files spread over the dataset; None when there are none to read."""
    dataset = getattr(datamodule, "datasets", {}).get("train")
    samples = getattr(dataset, "samples", [])
    picked = samples[:: max(len(samples) // SAMPLED_FILES, 1)][:SAMPLED_FILES]
    intervals = []
    for sample in picked:
        try:
            intervals.append(keyframe_interval(sample.path))
        except VideoReadError:
            continue  # an unreadable file is the bad-video count's business
    return statistics.median(intervals) if intervals else None
