"""Video-level metrics from per-video probabilities: the numbers papers report.

The classifier averages the softmax of every view of a video; this turns the resulting
``videos × classes`` probabilities into top-1, top-5, mean class accuracy, per-class accuracy and
the confusion matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


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


def present_classes(metrics: dict) -> list[dict]:
    """The per-class rows of classes that have test videos."""
    return [row for row in metrics["per_class"] if row["videos"]]


def worst_classes(metrics: dict, count: int) -> list[dict]:
    """The ``count`` present classes of lowest accuracy, worst first."""
    return sorted(present_classes(metrics), key=lambda row: row["accuracy"])[:count]


def most_confidently_wrong(probs: torch.Tensor, labels: torch.Tensor, count: int) -> list[int]:
    """Rows of the ``count`` misclassified videos whose wrong top-1 class had the highest probability, surest first.

    These are the errors worth a look: a mislabelled video, or two classes the model cannot tell apart.
    """
    confidence, predicted = probs.max(1)
    wrong = (predicted != labels).nonzero().flatten()
    order = confidence[wrong].argsort(descending=True, stable=True)
    return wrong[order[:count]].tolist()
