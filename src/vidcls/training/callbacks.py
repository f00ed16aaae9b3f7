"""Callbacks that keep long runs alive and honest and leave files a person reads: bad videos are
reported (too many stop the run), a SIGTERM leaves a checkpoint to resume from, and a test run
writes its report (also as a page to open in a browser)."""

from __future__ import annotations

import csv
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from lightning.pytorch.utilities.exceptions import SIGTERMException

from vidcls.clip import ClipSpec
from vidcls.data.transforms import unnormalise
from vidcls.errors import DatasetError, VideoReadError
from vidcls.evaluation.metrics import most_confident_label_errors, most_confidently_wrong
from vidcls.evaluation.plots import confusion_figure
from vidcls.evaluation.report import print_report, write_report
from vidcls.evaluation.report_page import WRONG_EXAMPLES, LabelError, WrongVideo


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
    """After a test run, write ``report.json``, ``per_class.csv``, ``confusion.png`` and ``report.html`` to the run
    folder, print the table, and add the confusion matrix to TensorBoard: the figures the classifier logged.

    The page shows the ``wrong_examples`` most confidently misclassified videos (multi-label: that
    many surest false positives and as many surest missed positives) with the frames the network
    saw: those few clips are read again here, so nothing holds frames during the test.
    """

    def __init__(self, wrong_examples: int = WRONG_EXAMPLES):
        self.wrong_examples = wrong_examples

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        metrics = getattr(pl_module, "test_metrics", None)
        log_dir = trainer.log_dir  # a collective under DDP: every rank must ask
        if metrics is None or not trainer.is_global_zero or not log_dir:
            return
        classes = pl_module.classes
        clip = pl_module.clip_preset
        summary = {
            "task": pl_module.task,
            "checkpoint": trainer.ckpt_path,
            "model": pl_module.hparams.get("model"),
            "clip": clip.to_dict() if clip else None,
            "views": clip.test_clips * clip.test_crops if clip else None,
        }
        if not clip:
            wrong = []
        elif pl_module.task == "multilabel":
            wrong = self._label_errors(trainer, pl_module, clip)
        else:
            wrong = self._wrong_videos(trainer, pl_module, clip)
        write_report(log_dir, metrics, classes, summary, wrong)
        print_report(metrics)
        experiment = getattr(trainer.logger, "experiment", None)
        if hasattr(experiment, "add_figure") and "confusion" in metrics:  # TensorBoard
            experiment.add_figure("test/confusion", confusion_figure(metrics["confusion"], classes), global_step=trainer.global_step)

    def _wrong_videos(self, trainer: L.Trainer, pl_module: L.LightningModule, clip: ClipSpec) -> list[WrongVideo]:
        """The surest errors with their top-5 and the middle view's frames, re-read from the test dataset."""
        index, probs, labels = pl_module.test_predictions
        classes = pl_module.classes
        wrong = []
        for row in most_confidently_wrong(probs, labels, self.wrong_examples):
            path, frames, note = _seen_frames(trainer, int(index[row]), clip)
            wrong.append(WrongVideo(path, classes[int(labels[row])], _top5(probs[row], classes), frames, note))
        return wrong

    def _label_errors(self, trainer: L.Trainer, pl_module: L.LightningModule, clip: ClipSpec) -> list[LabelError]:
        """The surest false positives and missed positives, with the video's labels, top-5 and frames."""
        index, probs, targets = pl_module.test_predictions
        classes = pl_module.classes
        errors = []
        for missed, pairs in enumerate(most_confident_label_errors(probs, targets, self.wrong_examples)):
            for row, label in pairs:
                path, frames, note = _seen_frames(trainer, int(index[row]), clip)
                labels = [classes[i] for i in targets[row].nonzero().flatten().tolist()]
                errors.append(LabelError(path, classes[label], float(probs[row, label]), bool(missed), labels,
                                         _top5(probs[row], classes), frames, note))
        return errors


def _top5(probs: torch.Tensor, classes: list[str]) -> list[tuple[str, float]]:
    values, top = probs.topk(min(5, len(classes)))
    return [(classes[i], float(v)) for v, i in zip(values.tolist(), top.tolist())]


def _seen_frames(trainer: L.Trainer, video: int, clip: ClipSpec) -> tuple[str, torch.Tensor | None, str]:
    """A test video's path and the middle view's frames as the network saw them, re-read (None and why, when they cannot be)."""
    dataset = getattr(getattr(trainer, "datamodule", None), "datasets", {}).get("test")
    if dataset is None:
        return f"test video {video}", None, "the test data is not a VideoDataModule's"
    middle_view = clip.test_clips // 2 * clip.test_crops + clip.test_crops // 2  # the middle clip's middle crop
    try:
        return str(dataset.samples[video].path), unnormalise(dataset.read_clip(video)["video"][middle_view], clip), ""
    except VideoReadError as error:  # views: V×C×T×H×W
        return str(dataset.samples[video].path), None, str(error)
