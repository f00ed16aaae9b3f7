"""Video-level metrics from per-video probabilities: the numbers papers report.

The classifier pools the probabilities of every view of a video (softmax, or sigmoid for a
multi-label task); this turns the resulting ``videos × classes`` probabilities into top-1, top-5,
mean class accuracy, per-class accuracy and the confusion matrix (:func:`video_metrics`), or, for
multi-label videos, the mean average precision and each class's AP (:func:`multilabel_metrics`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torchmetrics.functional.classification import multilabel_average_precision

from vidcls.task import DEFAULT_THRESHOLD


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
        "task": "multiclass",
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


def multilabel_metrics(probs: torch.Tensor, targets: torch.Tensor, classes: Sequence[str],
                       threshold: float = DEFAULT_THRESHOLD) -> dict:
    """mAP and, per class, its average precision, positives and predicted positives (probability ≥ ``threshold``).

    ``targets`` is multi-hot (``videos × classes``). A class's AP is torchmetrics' (the area under
    the step-wise precision-recall curve, as scikit-learn's ``average_precision_score``); the mAP is
    their mean over the classes with at least one positive video (a class with none has no AP:
    PySlowFast's Charades protocol).
    """
    targets = targets.int()
    with warnings.catch_warnings():  # a class without positives: torchmetrics warns; it has no AP here
        warnings.filterwarnings("ignore", message="No positive samples found in target")
        per_class_ap = multilabel_average_precision(probs.float(), targets, len(classes), average=None)
    above = probs >= threshold
    positives, predicted = targets.sum(0), above.sum(0)
    return {
        "task": "multilabel",
        "videos": int(targets.shape[0]),
        "mAP": mean_average_precision(per_class_ap, positives),
        "threshold": threshold,
        "false_positives": int((above & (targets == 0)).sum()),  # (video, class) pairs, at the threshold
        "missed_positives": int((~above & (targets == 1)).sum()),
        "per_class": [
            {"class": name, "positives": int(positives[i]), "predicted": int(predicted[i]),
             "ap": float(per_class_ap[i]) if positives[i] else None}
            for i, name in enumerate(classes)
        ],
    }


def mean_average_precision(per_class_ap: torch.Tensor, positives: torch.Tensor) -> float | None:
    """The mean AP over the classes with a positive; None when no class has one."""
    present = positives > 0
    return float(per_class_ap[present].mean()) if present.any() else None


def present_classes(metrics: dict) -> list[dict]:
    """The per-class rows of classes that have test videos (multi-label: positive ones)."""
    count = "positives" if metrics.get("task") == "multilabel" else "videos"
    return [row for row in metrics["per_class"] if row[count]]


def worst_classes(metrics: dict, count: int) -> list[dict]:
    """The ``count`` present classes of lowest accuracy (multi-label: average precision), worst first."""
    score = "ap" if metrics.get("task") == "multilabel" else "accuracy"
    return sorted(present_classes(metrics), key=lambda row: row[score])[:count]


def most_confidently_wrong(probs: torch.Tensor, labels: torch.Tensor, count: int) -> list[int]:
    """Rows of the ``count`` misclassified videos whose wrong top-1 class had the highest probability, surest first.

    These are the errors worth a look: a mislabelled video, or two classes the model cannot tell apart.
    """
    confidence, predicted = probs.max(1)
    wrong = (predicted != labels).nonzero().flatten()
    order = confidence[wrong].argsort(descending=True, stable=True)
    return wrong[order[:count]].tolist()


def most_confident_label_errors(probs: torch.Tensor, targets: torch.Tensor, count: int,
                                threshold: float = DEFAULT_THRESHOLD) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Multi-label errors worth a look: the ``count`` surest false positives (a class predicted at the highest
    probabilities on videos without it) and the ``count`` surest missed positives (a class of the video scored
    lowest), each as (row, class) pairs, surest first."""
    negative = targets.int() == 0
    false_positive = (negative & (probs >= threshold)).nonzero()
    missed = (~negative & (probs < threshold)).nonzero()
    surest_fp = probs[false_positive[:, 0], false_positive[:, 1]].argsort(descending=True, stable=True)
    surest_missed = probs[missed[:, 0], missed[:, 1]].argsort(stable=True)
    return ([tuple(pair) for pair in false_positive[surest_fp[:count]].tolist()],
            [tuple(pair) for pair in missed[surest_missed[:count]].tolist()])
