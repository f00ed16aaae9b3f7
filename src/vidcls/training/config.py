"""The LightningCLI behind ``vidcls fit``/``validate``/``test``: vidcls's rules on top of Lightning's.

Every ``VideoClassifier`` and ``VideoDataModule`` argument is a ``--model.*``/``--data.*`` flag and
a YAML key. The rules: a checkpoint's classes win over the data's (the weights index them);
``--ckpt_path last`` resumes the newest run of this model and these classes; a bad video count,
the data-bound advisor and a SIGTERM checkpoint are always on; the test report is always written. Clip settings need no
rule here: the datamodule resolves them (given values over the model's clip over the defaults).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from vidcls.data.datamodule import VideoDataModule
from vidcls.io import load_file
from vidcls.training.callbacks import BadVideoMonitor, CheckpointOnSigterm, TestReport
from vidcls.training.checkpoints import checkpoint_hparams, find_resumable_checkpoint
from vidcls.training.classifier import VideoClassifier
from vidcls.training.data_advisor import DataBoundAdvisor


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

    def _parse_ckpt_path(self) -> None:
        """Read a checkpoint's hyperparameters (classes, clip) into the model config, as LightningCLI does, but safely.

        The file is read without unpickling code (an unsafe one is refused with one line), and a
        checkpoint from before the clip contract gets its clip from its datamodule settings.
        """
        subcommand = self.config.get("subcommand")
        path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if not path or not Path(path).is_file():
            return
        hparams = checkpoint_hparams(load_file(path, mmap=True), path)
        hparams.pop("_instantiator", None)
        self.config = self.parser.parse_object({subcommand: {"model": hparams}}, self.config)

    def before_instantiate_classes(self) -> None:
        # the data must index labels as the checkpoint's weights do, or every metric would be wrong
        config = self.config[self.subcommand] if self.subcommand else self.config
        if config.model.classes and not config.data.classes:
            config.data.classes = list(config.model.classes)

    def _resolve_last_checkpoint(self) -> None:
        """``--ckpt_path last``: the newest checkpoint of this run's model and classes (Lightning's own looks in a new folder)."""
        config = self.config_init[self.subcommand]
        if config.get("ckpt_path") != "last":
            return
        classes = self.model.classes or self.datamodule.classes
        hparams = self.model.hparams
        config["ckpt_path"] = str(find_resumable_checkpoint(
            self.trainer.default_root_dir, hparams.model, classes, hparams.model_options
        ))

    before_fit = before_validate = before_test = _resolve_last_checkpoint


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
