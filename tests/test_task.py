"""The task: a multi-label network's probabilities are independent sigmoids, a multiclass one's a softmax; checkpoints
without a task are multiclass."""

import pytest
import torch

from vidcls.errors import VidclsError
from vidcls.task import check_task, scores, task_of


def test_scores_are_a_softmax_or_a_sigmoid_per_class():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]], dtype=torch.float16)
    multiclass, multilabel = scores(logits, "multiclass"), scores(logits, "multilabel")
    assert multiclass.dtype == multilabel.dtype == torch.float32
    torch.testing.assert_close(multiclass, torch.nn.functional.softmax(logits.float(), dim=1))
    torch.testing.assert_close(multilabel, 1 / (1 + torch.exp(-logits.float())))
    assert multilabel.sum(1).tolist() != pytest.approx([1.0, 1.0])


def test_a_checkpoint_without_a_task_is_multiclass_and_an_unknown_task_is_one_line():
    assert task_of({}) == task_of({"task": None}) == "multiclass" and task_of({"task": "multilabel"}) == "multilabel"
    with pytest.raises(VidclsError, match=r"^unknown task 'multi'; choose from multiclass, multilabel$"):
        check_task("multi")
