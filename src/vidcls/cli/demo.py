"""`vidcls demo`: the whole pipeline on synthetic data, on the CPU, in minutes, with no download.

Synthesizes the motion dataset, trains ``configs/demo.yaml`` (the same config ``vidcls fit``
takes), tests the best checkpoint on the held-out split, prints a table and writes
``OUT/report.json`` (the test run's own report, ``report.html`` among it, is in its log folder).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

from rich.console import Console
from rich.table import Table

from vidcls.cli.progress import progress_bar
from vidcls.datatools.synthetic import CLASSES, SynthConfig, synthesize_dataset
from vidcls.evaluation.plots import plot_curves
from vidcls.training.config import run_lightning
from vidcls.training.run import link_run

DEMO_CONFIG = files("vidcls") / "configs" / "demo.yaml"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="vidcls demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/demo", help="run folder (default runs/demo)")
    parser.add_argument("--epochs", type=int, help="override the config's max_epochs")
    parser.add_argument("--videos", type=int, nargs=3, default=(40, 10, 25), metavar=("TRAIN", "VAL", "TEST"),
                        help="videos per class in each split (default 40 10 25)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = run_demo(Path(args.out), dict(zip(("train", "val", "test"), args.videos)), args.epochs, args.seed)
    _print_report(report)
    return 0


def run_demo(out: Path, videos_per_class: dict[str, int], epochs: int | None = None, seed: int = 0) -> dict:
    """Synthesize, train, test; return the report (also written to ``out/report.json``)."""
    started = time.perf_counter()
    data = out / "data"
    with progress_bar("Synthesizing videos") as update:
        synthesize_dataset(data, videos_per_class, SynthConfig(seed=seed), progress=update)
    synth_seconds = time.perf_counter() - started

    overrides = ["--data.root", str(data), "--trainer.default_root_dir", str(out), "--seed_everything", str(seed)]
    if epochs is not None:
        overrides += ["--trainer.max_epochs", str(epochs)]
    cli = run_lightning(["--config", str(DEMO_CONFIG), *overrides], run=False)
    trainer, model, datamodule = cli.trainer, cli.model, cli.datamodule
    link_run(model, datamodule)
    trainer.fit(model, datamodule)
    train_seconds = time.perf_counter() - started - synth_seconds
    (metrics,) = trainer.test(model, datamodule, ckpt_path="best")
    log_dir = Path(trainer.log_dir)

    report = {
        "top1": metrics["test/top1"],
        "top5": metrics["test/top5"],
        "mean_class_accuracy": model.test_metrics["mean_class_accuracy"],
        "loss": metrics["test/loss"],
        "checkpoint": trainer.checkpoint_callback.best_model_path,
        "classes": CLASSES,
        "videos_per_class": videos_per_class,
        "epochs": trainer.current_epoch,
        "model": model.hparams.model,
        "log_dir": str(log_dir),
        "per_class": str(log_dir / "per_class.csv"),
        "confusion": str(log_dir / "confusion.png"),
        "page": str(log_dir / "report.html"),
        "curves": str(plot_curves(log_dir)),
        "seconds": {"synthesize": synth_seconds, "train": train_seconds, "total": time.perf_counter() - started},
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _print_report(report: dict) -> None:
    table = Table(title="vidcls demo: held-out synthetic test split")
    for column in ("model", "classes", "test videos", "top-1", "top-5", "time"):
        table.add_column(column)
    table.add_row(
        report["model"],
        str(len(report["classes"])),
        str(report["videos_per_class"]["test"] * len(report["classes"])),
        f"{report['top1']:.3f}",
        f"{report['top5']:.3f}",
        f"{report['seconds']['total'] / 60:.1f} min",
    )
    console = Console()
    console.print(table)
    console.print(f"checkpoint: {report['checkpoint']}")
    console.print(f"plots: {report['curves']}, {report['confusion']}; per class: {report['per_class']}")
    console.print(f"the test report, to open in a browser: {report['page']}")
    console.print(f"TensorBoard: tensorboard --logdir {report['log_dir']}")
