"""Test reports a person reads: ``report.json``, ``per_class.csv``, ``confusion.png``, ``report.html`` and a printed table.

A multi-label test (metrics of :func:`~vidcls.evaluation.metrics.multilabel_metrics`) has no
confusion matrix: its report.json gives ``task`` and ``mAP``, its per_class.csv each class's AP,
positives and predicted positives at the threshold.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from vidcls.evaluation.html import figure_png
from vidcls.evaluation.metrics import worst_classes
from vidcls.evaluation.plots import confusion_figure
from vidcls.evaluation.report_page import LabelError, WrongVideo, write_report_page


def write_report(
    out_dir: str | Path, metrics: dict, classes: Sequence[str], extra: dict | None = None,
    wrong: Sequence[WrongVideo] | Sequence[LabelError] = (),
) -> dict[str, Path]:
    """Write ``report.json``, ``per_class.csv``, ``confusion.png`` (multiclass) and ``report.html`` into ``out_dir``.

    ``extra`` joins the summary (checkpoint, model, clip, views); ``wrong`` are the misclassified
    videos (multi-label: the label errors) the page shows with their frames.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"report": out_dir / "report.json", "per_class": out_dir / "per_class.csv", "html": out_dir / "report.html"}
    summary = {k: v for k, v in metrics.items() if k not in ("confusion", "per_class")}
    summary.update(extra or {})
    summary["worst_classes"] = [row["class"] for row in worst_classes(metrics, 10)]
    paths["report"].write_text(json.dumps(summary, indent=2) + "\n")
    with open(paths["per_class"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(metrics["per_class"][0]))
        writer.writeheader()
        writer.writerows(metrics["per_class"])
    if metrics["task"] == "multilabel":
        write_report_page(paths["html"], summary, metrics["per_class"], None, wrong, 0)
        return paths
    paths["confusion"] = out_dir / "confusion.png"
    confusion = figure_png(confusion_figure(metrics["confusion"], classes), dpi=120)
    paths["confusion"].write_bytes(confusion)
    errors = metrics["videos"] - sum(row["correct"] for row in metrics["per_class"])
    write_report_page(paths["html"], summary, metrics["per_class"], confusion, wrong, errors)
    return paths


def print_report(metrics: dict, worst: int = 5) -> None:
    """A short table: the video-level numbers and the worst classes."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Video-level test results ({metrics['videos']} videos)")
    if metrics["task"] == "multilabel":
        for column in ("mAP", "false positives", "missed positives", f"worst {worst} classes (AP)"):
            table.add_column(column)
        average = metrics["mAP"]
        table.add_row("–" if average is None else f"{average:.4f}", str(metrics["false_positives"]),
                      str(metrics["missed_positives"]),
                      ", ".join(f"{r['class']} {r['ap']:.2f}" for r in worst_classes(metrics, worst)))
        Console().print(table)
        return
    for column in ("top-1", "top-5", "mean class accuracy", f"worst {worst} classes"):
        table.add_column(column)
    worst_rows = worst_classes(metrics, worst)
    table.add_row(
        f"{metrics['top1']:.4f}",
        f"{metrics['top5']:.4f}",
        f"{metrics['mean_class_accuracy']:.4f}",
        ", ".join(f"{r['class']} {r['accuracy']:.2f}" for r in worst_rows),
    )
    Console().print(table)
