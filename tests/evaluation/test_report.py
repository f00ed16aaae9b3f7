"""The test report: report.json, per_class.csv and confusion.png, and the printed table."""

import csv
import json

import pytest
import torch

from vidcls.evaluation.metrics import video_metrics
from vidcls.evaluation.report import print_report, write_report


def one_hot(indices, num_classes):
    return torch.nn.functional.one_hot(torch.tensor(indices), num_classes).float()


def test_report_files(tmp_path):
    classes = [f"class {i}" for i in range(40)]
    labels = torch.arange(40).repeat(3)
    probs = one_hot(((labels + (labels % 7 == 0)) % 40).tolist(), 40)
    paths = write_report(tmp_path, video_metrics(probs, labels, classes), classes, extra={"views": 30})
    report = json.loads(paths["report"].read_text())
    assert report["videos"] == 120 and report["views"] == 30 and "confusion" not in report
    assert report["top1"] == pytest.approx(34 / 40)
    assert set(report["worst_classes"][:6]) == {"class 0", "class 7", "class 14", "class 21", "class 28", "class 35"}
    with paths["per_class"].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 40 and list(rows[0]) == ["class", "videos", "correct", "accuracy"]
    assert rows[7] == {"class": "class 7", "videos": "3", "correct": "0", "accuracy": "0.0"}
    assert rows[8] == {"class": "class 8", "videos": "3", "correct": "3", "accuracy": "1.0"}
    assert paths["confusion"].read_bytes().startswith(b"\x89PNG")


def test_printed_table_has_the_numbers_and_the_worst_classes(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps to the terminal's width
    probs = one_hot([0, 1, 1, 2], 3)
    print_report(video_metrics(probs, torch.tensor([0, 0, 1, 2]), ["jump", "run", "swim"]), worst=2)
    out = capsys.readouterr().out
    assert "Video-level test results (4 videos)" in out
    (row,) = [line for line in out.splitlines() if "0.7500" in line]
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells == ["0.7500", "1.0000", "0.8333", "jump 0.50, run 1.00"]
