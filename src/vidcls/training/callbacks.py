"""Callbacks that keep long runs alive and honest and leave files a person reads: bad videos are
reported (too many stop the run), a SIGTERM leaves a checkpoint to resume from, and a test run
writes its report."""

from __future__ import annotations

import csv
from pathlib import Path

import lightning as L
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from lightning.pytorch.utilities.exceptions import SIGTERMException

from vidcls.errors import DatasetError
from vidcls.evaluation.plots import confusion_figure
from vidcls.evaluation.report import print_report, write_report


class BadVideoMonitor(L.Callback):
    """After every epoch, report videos that failed to decode and stop when too many did.

    The datasets replace each unreadable video by another one and append it to the run's
    ``bad_videos.csv`` (path, reason); this callback counts the distinct files there, logs the
    count as ``data/bad_videos`` and raises when they exceed ``max_fraction`` of the dataset: a
    few broken files are normal, a third of them means the data (or a mount) is broken.
    """

    def __init__(self, max_fraction: float = 0.05):
        self.max_fraction = max_fraction
        self.reported = 0

    def _check(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        datamodule = trainer.datamodule
        log_file = getattr(datamodule, "bad_video_log", None)
        if log_file is None or not log_file.is_file():
            return
        with open(log_file, newline="", encoding="utf-8") as handle:
            bad = {row[0] for row in csv.reader(handle) if row}
        total = len({sample.path for dataset in datamodule.datasets.values() for sample in dataset.samples})
        pl_module.log("data/bad_videos", float(len(bad)), rank_zero_only=True)
        if len(bad) > self.reported:
            rank_zero_warn(f"{len(bad)} unreadable videos so far were replaced by others: see {log_file}")
            self.reported = len(bad)
        if total and len(bad) / total > self.max_fraction:
            raise DatasetError(
                f"{log_file}: {len(bad)} of {total} videos could not be decoded, more than the limit of"
                f" {self.max_fraction:.0%} (BadVideoMonitor.max_fraction)"
            )

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._check(trainer, pl_module)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._check(trainer, pl_module)

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._check(trainer, pl_module)


class CheckpointOnSigterm(L.Callback):
    """On SIGTERM (a scheduler's pre-emption, ``kill``), save ``last.ckpt`` and exit cleanly.

    Lightning stops after the batch in progress when it receives SIGTERM; this writes that
    state where ``--ckpt_path last`` finds it, so the run continues from the same step.
    """

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, SIGTERMException) or not trainer.training:
            return
        checkpoint_dir = getattr(trainer.checkpoint_callback, "dirpath", None)
        path = Path(checkpoint_dir or Path(trainer.log_dir or trainer.default_root_dir) / "checkpoints") / "last.ckpt"
        trainer.save_checkpoint(path)
        rank_zero_info(f"SIGTERM: saved {path}; resume with --ckpt_path last")


class TestReport(L.Callback):
    """After a test run, write ``report.json``, ``per_class.csv`` and ``confusion.png`` to the run folder,
    print the table, and add the confusion matrix to TensorBoard: the figures the classifier logged."""

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        metrics = getattr(pl_module, "test_metrics", None)
        log_dir = trainer.log_dir  # a collective under DDP: every rank must ask
        if metrics is None or not trainer.is_global_zero or not log_dir:
            return
        classes = pl_module.classes
        write_report(log_dir, metrics, classes)
        print_report(metrics)
        experiment = getattr(trainer.logger, "experiment", None)
        if hasattr(experiment, "add_figure"):  # TensorBoard
            experiment.add_figure("test/confusion", confusion_figure(metrics["confusion"], classes), global_step=trainer.global_step)
