"""The ``vidcls`` command: the only code that reads argv or prints for a user.

``fit``, ``validate`` and ``test`` are LightningCLI subcommands (:mod:`vidcls.training.config`):
every ``VideoClassifier`` and ``VideoDataModule`` argument is a ``--model.*``/``--data.*`` flag
and a YAML key. The other commands are small argparse programs, one module each. Each command's
module is imported only when it runs, and none imports torch or Lightning before it needs them,
so ``vidcls --help``, ``vidcls models`` and the dataset tools' text start at once.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Sequence

from vidcls.errors import VidclsError

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

LIGHTNING_COMMANDS = ("fit", "validate", "test")
TOOLS = ("bench", "data", "demo", "export", "models", "plot", "predict")  # each is vidcls.cli.<name>.main(argv) -> int


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else None
    try:
        if command in TOOLS:
            sys.exit(importlib.import_module(f"vidcls.cli.{command}").main(args[1:]))
        if command in LIGHTNING_COMMANDS:
            from vidcls.training.config import run_lightning

            run_lightning(args)
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
