"""Video-level metrics: top-1, top-5, mean class accuracy, per class, confusion, worst classes."""

import pytest
import torch

from vidcls.evaluation.metrics import (
    most_confident_label_errors,
    multilabel_metrics,
    present_classes,
    video_metrics,
    worst_classes,
)


def one_hot(indices, num_classes):
    return torch.nn.functional.one_hot(torch.tensor(indices), num_classes).float()


def test_video_metrics_by_hand():
    classes = ["a", "b", "c"]
    # predictions: video0 a (true a), video1 c (true b; b ranked second), video2 c (true c), video3 a (true c)
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.1, 0.2, 0.7], [0.5, 0.1, 0.4]])
    labels = torch.tensor([0, 1, 2, 2])
    metrics = video_metrics(probs, labels, classes)
    assert metrics["videos"] == 4
    assert metrics["top1"] == pytest.approx(0.5)
    assert metrics["top5"] == pytest.approx(1.0)  # top-k clips to the 3 classes
    assert [row["accuracy"] for row in metrics["per_class"]] == pytest.approx([1.0, 0.0, 0.5])
    assert metrics["mean_class_accuracy"] == pytest.approx(0.5)
    assert metrics["confusion"].tolist() == [[1, 0, 0], [0, 0, 1], [1, 0, 1]]


def test_top5_counts_a_label_ranked_fifth_but_not_sixth():
    probs = torch.tensor([[0.3, 0.25, 0.2, 0.1, 0.08, 0.07], [0.3, 0.25, 0.2, 0.1, 0.07, 0.08]])
    metrics = video_metrics(probs, torch.tensor([4, 4]), list("abcdef"))
    assert (metrics["top1"], metrics["top5"]) == (0.0, pytest.approx(0.5))


def test_mean_class_accuracy_ignores_absent_classes():
    metrics = video_metrics(one_hot([0, 0, 1], 4), torch.tensor([0, 0, 0]), list("abcd"))
    assert metrics["mean_class_accuracy"] == pytest.approx(2 / 3)
    assert [row["class"] for row in present_classes(metrics)] == ["a"]


def test_worst_classes_are_the_present_ones_of_lowest_accuracy():
    # a: 2/2, b: 0/1, c: absent, d: 1/2
    metrics = video_metrics(one_hot([0, 0, 0, 3, 0], 4), torch.tensor([0, 0, 1, 3, 3]), list("abcd"))
    assert [(row["class"], row["accuracy"]) for row in worst_classes(metrics, 2)] == [("b", 0.0), ("d", 0.5)]
    assert [row["class"] for row in worst_classes(metrics, 10)] == ["b", "d", "a"]  # c has no videos: never listed


def test_multilabel_map_is_scikit_learns_mean_over_the_classes_with_a_positive():
    metrics_module = pytest.importorskip("sklearn.metrics")
    generator = torch.Generator().manual_seed(0)
    targets = (torch.rand(40, 6, generator=generator) < 0.3).int()
    targets[:, 5] = 0  # a class without positives: no AP, not in the mean
    probs = (0.6 * targets + torch.rand(40, 6, generator=generator)).clamp(max=1)
    probs[:4] = probs[:4].round(decimals=1)  # ties, which both must break alike
    metrics = multilabel_metrics(probs, targets, list("abcdef"), threshold=0.5)
    expected = [metrics_module.average_precision_score(targets[:, c].numpy(), probs[:, c].numpy()) for c in range(5)]
    assert [row["ap"] for row in metrics["per_class"]] == [pytest.approx(ap, abs=1e-6) for ap in expected] + [None]
    assert metrics["mAP"] == pytest.approx(sum(expected) / 5, abs=1e-6)
    above = probs >= 0.5
    assert [row["positives"] for row in metrics["per_class"]] == targets.sum(0).tolist()
    assert [row["predicted"] for row in metrics["per_class"]] == above.sum(0).tolist()
    assert metrics["false_positives"] == int((above & (targets == 0)).sum())
    assert metrics["missed_positives"] == int((~above & (targets == 1)).sum())
    assert [row["class"] for row in worst_classes(metrics, 2)] == [
        "abcde"[c] for c in sorted(range(5), key=lambda c: expected[c])[:2]]


def test_label_errors_are_the_surest_false_positives_and_the_lowest_scored_positives():
    probs = torch.tensor([[0.9, 0.2, 0.6], [0.7, 0.95, 0.1], [0.3, 0.4, 0.05]])
    targets = torch.tensor([[1, 0, 0], [0, 1, 1], [1, 0, 0]])
    false_positives, missed = most_confident_label_errors(probs, targets, 5)
    assert false_positives == [(1, 0), (0, 2)]  # 0.7, then 0.6
    assert missed == [(1, 2), (2, 0)]  # 0.1, then 0.3
    assert most_confident_label_errors(probs, targets, 1) == ([(1, 0)], [(1, 2)])
