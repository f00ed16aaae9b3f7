"""The LightningCLI behind ``vidcls fit``/``validate``/``test``: vidcls's rules on top of Lightning's.

Every ``VideoClassifier`` and ``VideoDataModule`` argument is a ``--model.*``/``--data.*`` flag and
a YAML key. The rules: a checkpoint's hyperparameters (classes, clip, model settings) are defaults that the
user's flags and YAML override; the data indexes labels by the checkpoint's classes (the weights
index them; a different list is refused); ``--ckpt_path last`` resumes the newest run of this
model, model options and classes; a bad video count,
the data-bound advisor and a SIGTERM checkpoint are always on; the test report is always written. The run's classes
and clip are decided once, after the model and data objects are made and before anything is built
(:func:`vidcls.training.run.link_run`). Only LightningCLI's public hooks are used.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from vidcls.data.datamodule import VideoDataModule
from vidcls.errors import VidclsError
from vidcls.io import load_file
from vidcls.models.checkpoint import checkpoint_hparams
from vidcls.training.callbacks import BadVideoMonitor, CheckpointOnSigterm, TestReport
from vidcls.training.checkpoints import classifier_arguments, find_resumable_checkpoint
from vidcls.training.classifier import VideoClassifier
from vidcls.training.data_advisor import DataBoundAdvisor
from vidcls.training.run import link_run


class VidclsCLI(LightningCLI):
    """LightningCLI with vidcls's rules (module docstring)."""

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        return {name: kwargs for name, kwargs in LightningCLI.subcommands().items() if name != "predict"}

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.set_defaults({"trainer.default_root_dir": "runs"})
        # always on: replaced unreadable videos are counted and too many stop the run
        parser.add_lightning_class_args(BadVideoMonitor, "bad_videos")
        # always on: the share of training time spent waiting for data, and advice when it is too large
        parser.add_lightning_class_args(DataBoundAdvisor, "data_advisor")

    def parse_arguments(self, parser: LightningArgumentParser, args) -> None:
        """Parse as LightningCLI does, with a checkpoint's hyperparameters as defaults under what the user gave.

        With ``--ckpt_path`` (``last``: the newest checkpoint under ``trainer.default_root_dir`` of
        this model, model options and classes), the checkpoint's classes, clip and model settings
        become the ``model.*`` defaults (the parser's public ``set_defaults``) and the arguments are
        parsed again, so every flag and YAML value the user gave still wins. The file is read
        without unpickling code (an unsafe one is refused with one line). LightningCLI would then
        merge the checkpoint over the user's values; vidcls has read it already, so the path is
        held back from that step and handed to the trainer in :meth:`before_instantiate_classes`.
        """
        super().parse_arguments(parser, args)
        self._resume_from = None
        subcommand = self.config.get("subcommand")
        path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if not path:
            return
        config = self.config[subcommand]
        if path == "last":
            path = str(find_resumable_checkpoint(config.trainer.default_root_dir, config.model.model,
                                                 _given_classes(config), config.model.model_options))
        if not Path(path).is_file():
            return  # Lightning names a missing file
        hparams = checkpoint_hparams(load_file(path, mmap=True), path)
        parser.set_defaults({f"{subcommand}.model.{key}": value for key, value in classifier_arguments(hparams).items()})
        super().parse_arguments(parser, args)
        self._resume_from = path
        self.config[subcommand].ckpt_path = None

    def before_instantiate_classes(self) -> None:
        if self._resume_from:
            self.config[self.subcommand].ckpt_path = self._resume_from

    def after_instantiate_classes(self) -> None:
        """Decide the run's classes and clip once and give them to the model and the data (vidcls.training.run)."""
        if self.subcommand:
            link_run(self.model, self.datamodule)
        super().after_instantiate_classes()


def _given_classes(config) -> list[str] | None:
    """The class list of the run being launched, as the datamodule would index it (None where it cannot tell yet)."""
    if config.model.classes:
        return list(config.model.classes)
    try:
        return VideoDataModule(**config.data.as_dict()).classes
    except VidclsError:
        return None


def _not_a_tip(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("💡 Tip")


# Deprecation notices that the libraries give each other, not the user: nothing in the user's run to change.
LIBRARY_NOISE = (
    "'set_vital' is deprecated",  # torchdata's StatefulDataLoader calling torch
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",  # Lightning calling torch's pytree
)


def quiet_lightning() -> None:
    """Drop Lightning's advertising tips (litlogger, litmodels) and the libraries' notices to each other.

    A warning that matters to the user must not drown in them. Called by the CLI only: importing
    vidcls changes no filters.
    """
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_not_a_tip)  # added once however often called
    for message in LIBRARY_NOISE:
        warnings.filterwarnings("ignore", message=message)


def run_lightning(args: Sequence[str] | None, run: bool = True) -> VidclsCLI:
    """Parse ``args`` (None: the command line) as LightningCLI does (``run=False``: no subcommand, nothing started)."""
    quiet_lightning()
    with warnings.catch_warnings():
        # vidcls always hands LightningCLI its arguments on purpose (after `vidcls`'s own dispatch)
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
        return VidclsCLI(
            VideoClassifier,
            VideoDataModule,
            args=None if args is None else list(args),
            run=run,
            save_config_kwargs={"overwrite": True},
            trainer_defaults={"callbacks": [CheckpointOnSigterm(), TestReport()]},  # always on, not configurable
        )
