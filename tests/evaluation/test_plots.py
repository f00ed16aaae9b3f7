"""Figures: the most confused classes of a large confusion matrix, training curves from a TensorBoard log."""

import pytest
import torch

from vidcls.errors import VidclsError
from vidcls.evaluation.plots import confusion_figure, most_confused_classes, plot_curves


def test_most_confused_classes_pick_the_largest_errors():
    confusion = torch.eye(400, dtype=torch.long) * 50
    confusion[10, 20] = 30
    confusion[300, 5] = 12
    confusion[7, 7] = 1
    chosen = most_confused_classes(confusion, limit=4)
    assert chosen == [5, 10, 20, 300]
    assert most_confused_classes(torch.eye(3, dtype=torch.long)) == [0, 1, 2]


def test_confusion_figure_of_many_classes_shows_only_the_confused_ones():
    confusion = torch.eye(40, dtype=torch.long) * 5
    confusion[3, 30] = 4
    confusion[12, 3] = 1
    figure = confusion_figure(confusion, [f"class {i}" for i in range(40)])
    axes = figure.axes[0]
    assert axes.get_title().endswith("(3 most confused of 40 classes)")
    shown = [label.get_text() for label in axes.get_yticklabels()]
    assert shown == ["class 3", "class 12", "class 30"] == [label.get_text() for label in axes.get_xticklabels()]
    image = axes.get_images()[0].get_array()
    assert image[0].tolist() == pytest.approx([5 / 9, 0, 4 / 9])  # row-normalised by all the class's videos
    assert image[1].tolist() == pytest.approx([1 / 6, 5 / 6, 0])


def test_plot_curves_draws_the_runs_scalars(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalar("train/loss_epoch", 1.0 / (step + 1), step)
            writer.add_scalar("val/top1", 0.2 * step, step)
    out = plot_curves(tmp_path)
    assert out == tmp_path / "curves.png" and out.read_bytes().startswith(b"\x89PNG")
    assert plot_curves(tmp_path, tmp_path / "elsewhere.png") == tmp_path / "elsewhere.png"


def test_plot_curves_needs_a_log(tmp_path):
    with pytest.raises(VidclsError, match="no training curves"):
        plot_curves(tmp_path)
