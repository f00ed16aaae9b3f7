"""The report's examples: the misclassified videos, surest first."""

import torch

from vidcls.evaluation.metrics import most_confidently_wrong


def test_most_confidently_wrong_skips_right_answers_and_orders_by_the_wrong_class_probability():
    probs = torch.tensor([
        [0.9, 0.1, 0.0],  # right
        [0.2, 0.7, 0.1],  # wrong at 0.7
        [0.1, 0.1, 0.8],  # wrong at 0.8
        [0.5, 0.4, 0.1],  # wrong at 0.5
        [0.3, 0.6, 0.1],  # right
    ])
    labels = torch.tensor([0, 0, 1, 2, 1])
    assert most_confidently_wrong(probs, labels, 10) == [2, 1, 3]
    assert most_confidently_wrong(probs, labels, 2) == [2, 1]
    assert most_confidently_wrong(probs[[0, 4]], labels[[0, 4]], 5) == []
