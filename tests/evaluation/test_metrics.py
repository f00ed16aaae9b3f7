import json

import pytest
import torch

from vidcls.evaluation.metrics import most_confused_classes, plot_curves, video_metrics, write_report
from vidcls.errors import VidclsError


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


def test_mean_class_accuracy_ignores_absent_classes():
    metrics = video_metrics(one_hot([0, 0, 1], 4), torch.tensor([0, 0, 0]), list("abcd"))
    assert metrics["mean_class_accuracy"] == pytest.approx(2 / 3)


def test_most_confused_classes_pick_the_largest_errors():
    confusion = torch.eye(400, dtype=torch.long) * 50
    confusion[10, 20] = 30
    confusion[300, 5] = 12
    confusion[7, 7] = 1
    chosen = most_confused_classes(confusion, limit=4)
    assert chosen == [5, 10, 20, 300]
    assert most_confused_classes(torch.eye(3, dtype=torch.long)) == [0, 1, 2]


def test_report_files(tmp_path):
    classes = [f"class {i}" for i in range(40)]
    labels = torch.arange(40).repeat(3)
    probs = one_hot(((labels + (labels % 7 == 0)) % 40).tolist(), 40)
    paths = write_report(tmp_path, video_metrics(probs, labels, classes), classes, extra={"views": 30})
    report = json.loads(paths["report"].read_text())
    assert report["videos"] == 120 and report["views"] == 30 and "confusion" not in report
    assert report["top1"] == pytest.approx(34 / 40)
    assert set(report["worst_classes"][:6]) == {"class 0", "class 7", "class 14", "class 21", "class 28", "class 35"}
    rows = paths["per_class"].read_text().splitlines()
    assert rows[0] == "class,videos,correct,accuracy" and len(rows) == 41
    assert paths["confusion"].stat().st_size > 1000


def test_plot_curves_needs_a_log(tmp_path):
    with pytest.raises(VidclsError, match="no training curves"):
        plot_curves(tmp_path)
