"""Video-level evaluation: metrics from per-video probabilities, reports, and plots.

The classifier averages the softmax of every view of a video; this module turns the resulting
``videos × classes`` probabilities into the numbers papers report (top-1, top-5, mean class
accuracy), per-class accuracy, and files a person can read: ``report.json``, ``per_class.csv``,
``confusion.png`` and ``curves.png``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: works on headless servers
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from vidcls.errors import VidclsError  # noqa: E402

# A confusion matrix of more classes than this is unreadable: show the most confused ones.
MAX_CONFUSION_CLASSES = 25


def video_metrics(probs: torch.Tensor, labels: torch.Tensor, classes: Sequence[str]) -> dict:
    """Top-1, top-5, mean class accuracy, per-class accuracy and the confusion matrix."""
    num_classes = len(classes)
    ranked = probs.argsort(dim=1, descending=True)
    hits = ranked == labels[:, None]
    predicted = ranked[:, 0]
    confusion = torch.bincount(labels * num_classes + predicted, minlength=num_classes**2).view(num_classes, num_classes)
    per_class_total = confusion.sum(1)
    per_class_correct = confusion.diagonal()
    present = per_class_total > 0
    per_class = (per_class_correct.float() / per_class_total.clamp_min(1)).tolist()
    return {
        "videos": int(labels.numel()),
        "top1": hits[:, :1].any(1).float().mean().item(),
        "top5": hits[:, : min(5, num_classes)].any(1).float().mean().item(),
        "mean_class_accuracy": torch.tensor(per_class)[present].mean().item(),
        "per_class": [
            {"class": name, "videos": int(per_class_total[i]), "correct": int(per_class_correct[i]), "accuracy": per_class[i]}
            for i, name in enumerate(classes)
        ],
        "confusion": confusion,
    }


def write_report(out_dir: str | Path, metrics: dict, classes: Sequence[str], extra: dict | None = None) -> dict[str, Path]:
    """Write ``report.json``, ``per_class.csv`` and ``confusion.png`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"report": out_dir / "report.json", "per_class": out_dir / "per_class.csv", "confusion": out_dir / "confusion.png"}
    summary = {k: v for k, v in metrics.items() if k not in ("confusion", "per_class")}
    summary.update(extra or {})
    summary["worst_classes"] = [row["class"] for row in sorted(_present(metrics), key=lambda r: r["accuracy"])[:10]]
    paths["report"].write_text(json.dumps(summary, indent=2) + "\n")
    with open(paths["per_class"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["class", "videos", "correct", "accuracy"])
        writer.writeheader()
        writer.writerows(metrics["per_class"])
    confusion_figure(metrics["confusion"], classes).savefig(paths["confusion"], dpi=120, bbox_inches="tight")
    plt.close("all")
    return paths


def print_report(metrics: dict, worst: int = 5) -> None:
    """A short table: the video-level numbers and the worst classes."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Video-level test results ({metrics['videos']} videos)")
    for column in ("top-1", "top-5", "mean class accuracy", f"worst {worst} classes"):
        table.add_column(column)
    worst_rows = sorted(_present(metrics), key=lambda r: r["accuracy"])[:worst]
    table.add_row(
        f"{metrics['top1']:.4f}",
        f"{metrics['top5']:.4f}",
        f"{metrics['mean_class_accuracy']:.4f}",
        ", ".join(f"{r['class']} {r['accuracy']:.2f}" for r in worst_rows),
    )
    Console().print(table)


def _present(metrics: dict) -> list[dict]:
    return [row for row in metrics["per_class"] if row["videos"]]


def most_confused_classes(confusion: torch.Tensor, limit: int = MAX_CONFUSION_CLASSES) -> list[int]:
    """Indices of the classes in the largest off-diagonal cells, up to ``limit``, in index order."""
    if len(confusion) <= limit:
        return list(range(len(confusion)))
    errors = confusion.clone()
    errors.fill_diagonal_(0)
    chosen: list[int] = []
    for cell in errors.flatten().argsort(descending=True).tolist():
        if errors.flatten()[cell] == 0 or len(chosen) >= limit:
            break
        for index in divmod(cell, len(confusion)):
            if index not in chosen and len(chosen) < limit:
                chosen.append(index)
    return sorted(chosen) or list(range(limit))


def confusion_figure(confusion: torch.Tensor, classes: Sequence[str]) -> plt.Figure:
    """Row-normalised confusion matrix; with many classes, only the most confused ones."""
    shown = most_confused_classes(confusion)
    matrix = confusion[shown][:, shown].float()
    matrix = matrix / confusion[shown].sum(1, keepdim=True).clamp_min(1)
    names = [classes[i] for i in shown]
    size = max(4.0, 0.35 * len(shown) + 2)
    figure, axes = plt.subplots(figsize=(size + 1, size))
    image = axes.imshow(matrix.numpy(), cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(names)), names, rotation=90, fontsize=8)
    axes.set_yticks(range(len(names)), names, fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    subset = "" if len(shown) == len(classes) else f" ({len(shown)} most confused of {len(classes)} classes)"
    axes.set_title(f"Confusion matrix, fraction of each true class{subset}")
    figure.colorbar(image, ax=axes, fraction=0.046)
    return figure


def plot_curves(log_dir: str | Path, out: str | Path | None = None) -> Path:
    """Plot the loss and top-1 curves of a run's TensorBoard log as ``curves.png``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log_dir = Path(log_dir)
    events = EventAccumulator(str(log_dir))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    panels = [("loss", ["train/loss_epoch", "val/loss"]), ("top-1", ["train/top1", "val/top1"])]
    if not tags & {tag for _, group in panels for tag in group}:
        raise VidclsError(f"{log_dir}: no training curves in a TensorBoard log here")
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, (title, group) in zip(axes, panels):
        for tag in group:
            if tag in tags:
                points = events.Scalars(tag)
                ax.plot([p.step for p in points], [p.value for p in points], marker=".", label=tag)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.legend()
    out = Path(out) if out else log_dir / "curves.png"
    figure.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return out
