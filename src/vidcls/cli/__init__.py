"""The ``vidcls`` command.

``fit``, ``validate`` and ``test`` are LightningCLI subcommands: every ``VideoClassifier`` and
``VideoDataModule`` argument is a ``--model.*``/``--data.*`` flag and a YAML key. The other
commands (``data``, ``demo``, ``models``) are small argparse programs over the library.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from vidcls.callbacks import BadVideoMonitor, CheckpointOnSigterm, find_last_checkpoint
from vidcls.classifier import VideoClassifier
from vidcls.data.datamodule import VideoDataModule
from vidcls.errors import VidclsError
from vidcls.pretrained import load_file
from vidcls.models import get_preset

USAGE = """usage: vidcls COMMAND [options]

Train and evaluate (LightningCLI: --config FILE.yaml, --model.*, --data.*, --trainer.*):
  fit        train a model                 vidcls fit --config configs/demo.yaml
  validate   evaluate on the val split     vidcls validate --config ... --ckpt_path CKPT
  test       evaluate on the test split    vidcls test --config ... --ckpt_path CKPT

Tools:
  bench      clips/s of the training loader as fit builds it   vidcls bench data --data my_videos
  demo       synthesize a small dataset, train, test and report (CPU, minutes)
  data       dataset tools: data synth | kinetics | verify | prepare   vidcls data verify my_videos
  models     list the registered models
  plot       training curves of a run as a PNG   vidcls plot runs/demo/lightning_logs/version_0
  predict    top-k classes or a timeline per video   vidcls predict --checkpoint CKPT PATH...
  export     ONNX / TorchScript with a parity check  vidcls export --checkpoint CKPT --format onnx --output FILE

`vidcls COMMAND --help` shows a command's options."""


class VidclsCLI(LightningCLI):
    """LightningCLI with vidcls's rules: a checkpoint's classes win; clip settings default to the model's preset."""

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        return {name: kwargs for name, kwargs in LightningCLI.subcommands().items() if name != "predict"}

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.set_defaults({"trainer.default_root_dir": "runs"})
        # always on: replaced unreadable videos are counted and too many stop the run
        parser.add_lightning_class_args(BadVideoMonitor, "bad_videos")

    def _parse_ckpt_path(self) -> None:
        """LightningCLI reads the checkpoint's hyperparameters first: refuse unsafe files with one line."""
        path = self.config[self.config.subcommand].get("ckpt_path") if self.config.get("subcommand") else None
        if path and Path(path).is_file():
            load_file(path)  # raises VidclsError for a file that would need code to unpickle
        super()._parse_ckpt_path()

    def before_instantiate_classes(self) -> None:
        # With --ckpt_path, LightningCLI has read the checkpoint's hyperparameters into the model
        # config; the data must index labels the same way, or every metric would be wrong.
        config = self.config[self.subcommand] if self.subcommand else self.config
        if self.subcommand and config.get("ckpt_path") == "last":  # Lightning's own "last" looks in a new run folder
            config.ckpt_path = str(find_last_checkpoint(config.trainer.default_root_dir))
        if config.model.classes and not config.data.classes:
            config.data.classes = list(config.model.classes)
        # A config that names only the model gets the clips it was trained on (frames, crop, mean...):
        # every clip setting still at its default takes the model's preset, so one set by hand wins
        # unless it equals the default.
        preset = get_preset(config.model.model)
        defaults = self._parser(self.subcommand).get_defaults().data
        for key, value in (preset.data_settings() if preset else {}).items():
            if _as_list(config.data[key]) == _as_list(defaults[key]):
                config.data[key] = value


def _as_list(value: object) -> object:
    """YAML gives lists where the defaults are tuples (mean, std): compare them as equals."""
    return list(value) if isinstance(value, tuple) else value


def run_lightning(args: Sequence[str], run: bool = True) -> VidclsCLI:
    """Parse ``args`` as LightningCLI does (``run=False``: no subcommand, nothing started)."""
    return VidclsCLI(
        VideoClassifier,
        VideoDataModule,
        args=list(args),
        run=run,
        save_config_kwargs={"overwrite": True},
        trainer_defaults={"callbacks": [CheckpointOnSigterm()]},  # always on, not configurable
    )


def _models_command(argv: Sequence[str]) -> int:
    from vidcls.models import describe_model, list_models

    parser = argparse.ArgumentParser(prog="vidcls models", description="List the registered models.")
    parser.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'x3d*'")
    args = parser.parse_args(argv)
    for name in list_models(args.pattern):
        print(f"{name:16s} {describe_model(name)}")
    return 0


def _demo_command(argv: Sequence[str]) -> int:
    from vidcls.demo import main as demo_main

    return demo_main(argv)


def _bench_command(argv: Sequence[str]) -> int:
    from vidcls.cli.bench import main as bench_main

    return bench_main(argv)


def _data_command(argv: Sequence[str]) -> int:
    from vidcls.cli.data import main as data_main

    return data_main(argv)


def _predict_command(argv: Sequence[str]) -> int:
    from vidcls.cli.predict import main as predict_main

    return predict_main(argv)


def _export_command(argv: Sequence[str]) -> int:
    from vidcls.cli.export import main as export_main

    return export_main(argv)


def _plot_command(argv: Sequence[str]) -> int:
    from vidcls.evaluation import plot_curves

    parser = argparse.ArgumentParser(prog="vidcls plot", description="Plot a run's training curves as a PNG.")
    parser.add_argument("run_dir", help="a run's log folder (lightning_logs/version_N)")
    parser.add_argument("--out", help="PNG path (default RUN_DIR/curves.png)")
    args = parser.parse_args(argv)
    print(plot_curves(args.run_dir, args.out))
    return 0


TOOLS: dict[str, Callable[[Sequence[str]], int]] = {
    "bench": _bench_command,
    "data": _data_command,
    "demo": _demo_command,
    "export": _export_command,
    "models": _models_command,
    "plot": _plot_command,
    "predict": _predict_command,
}


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else None
    try:
        if command in TOOLS:
            sys.exit(TOOLS[command](argv[1:]))
        if command in VidclsCLI.subcommands():
            run_lightning(argv)
            return
        print(USAGE)
        sys.exit(0 if command in (None, "-h", "--help") else 2)
    except VidclsError as error:
        print(f"vidcls: error: {one_line(error)}", file=sys.stderr)
        sys.exit(2)


def one_line(error: BaseException) -> str:
    """The message itself, also when a DataLoader worker wrapped it in a traceback."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    # a worker's traceback ends with "package.module.ErrorType: message"
    return re.sub(r"^[\w.]+Error: ", "", lines[-1])
