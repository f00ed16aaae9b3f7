"""Figures: the confusion matrix and a run's training curves.

Figures are drawn with matplotlib's object API (``Figure`` and the Agg canvas, no ``pyplot``), so
importing vidcls leaves the user's backend alone: inline plots in a notebook keep working.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from vidcls.errors import VidclsError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# A confusion matrix of more classes than this is unreadable: show the most confused ones.
MAX_CONFUSION_CLASSES = 25


def new_figure(**kwargs) -> Figure:
    """A figure that draws off-screen wherever it is saved, whatever backend pyplot uses."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(**kwargs)
    FigureCanvasAgg(figure)
    return figure


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


def confusion_figure(confusion: torch.Tensor, classes: Sequence[str]) -> Figure:
    """Row-normalised confusion matrix; with many classes, only the most confused ones."""
    shown = most_confused_classes(confusion)
    matrix = confusion[shown][:, shown].float()
    matrix = matrix / confusion[shown].sum(1, keepdim=True).clamp_min(1)
    names = [classes[i] for i in shown]
    size = max(4.0, 0.35 * len(shown) + 2)
    figure = new_figure(figsize=(size + 1, size))
    axes = figure.subplots()
    image = axes.imshow(matrix.numpy(), cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(names)), names, rotation=90, fontsize=8)
    axes.set_yticks(range(len(names)), names, fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    subset = "" if len(shown) == len(classes) else f" ({len(shown)} most confused of {len(classes)} classes)"
    axes.set_title(f"Confusion matrix, fraction of each true class{subset}")
    figure.colorbar(image, ax=axes, fraction=0.046)
    return figure


def curves_figure(log_dir: str | Path) -> Figure:
    """The loss and top-1 curves of a run's TensorBoard log (a notebook shows the figure inline)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log_dir = Path(log_dir)
    events = EventAccumulator(str(log_dir))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    panels = [("loss", ["train/loss_epoch", "val/loss"]), ("top-1", ["train/top1", "val/top1"])]
    if not tags & {tag for _, group in panels for tag in group}:
        raise VidclsError(f"{log_dir}: no training curves in a TensorBoard log here")
    figure = new_figure(figsize=(10, 4))
    axes = figure.subplots(1, 2)
    for ax, (title, group) in zip(axes, panels):
        for tag in group:
            if tag in tags:
                points = events.Scalars(tag)
                ax.plot([p.step for p in points], [p.value for p in points], marker=".", label=tag)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.legend()
    return figure


def plot_curves(log_dir: str | Path, out: str | Path | None = None) -> Path:
    """Plot the loss and top-1 curves of a run's TensorBoard log as ``curves.png``."""
    out = Path(out) if out else Path(log_dir) / "curves.png"
    curves_figure(log_dir).savefig(out, dpi=120, bbox_inches="tight")
    return out
