"""The task a network is trained for: part of the contract, like the clip, and recorded in every checkpoint.

- ``"multiclass"``: one label per video (Kinetics, UCF101): softmax over the classes, cross-entropy,
  top-1/top-5. The default, and the task of every checkpoint written before the task was recorded.
- ``"multilabel"``: any number of labels per video, none included (Charades, tag sets): a sigmoid per
  class, binary cross-entropy on the logits, mean average precision. A class is predicted when its
  probability passes a threshold (:data:`DEFAULT_THRESHOLD`).

The names are torchmetrics' (``task="multiclass"``/``"multilabel"``). Checkpoints keep the task as
``hyper_parameters["task"]``; test, predict and export read it from there. This module imports
nothing heavy: it works on whatever tensors it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, get_args

from vidcls.errors import VidclsError

if TYPE_CHECKING:
    import torch

Task = Literal["multiclass", "multilabel"]
TASKS: tuple[str, ...] = get_args(Task)
DEFAULT_TASK: Task = "multiclass"
# A class is predicted present when its sigmoid passes this (a logit above 0): the usual multi-label default.
DEFAULT_THRESHOLD = 0.5
# What the Hugging Face config calls each task: its `problem_type`, which transformers' pipelines read.
HUB_PROBLEM_TYPES: dict[str, str] = {"multiclass": "single_label_classification", "multilabel": "multi_label_classification"}


def check_task(task: str) -> Task:
    """``task`` when it is one; else one line naming the known ones."""
    if task not in TASKS:
        raise VidclsError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
    return task  # type: ignore[return-value]


def task_of(hparams: Mapping[str, Any]) -> Task:
    """The task a checkpoint's hyperparameters record: multiclass when they record none (written before it existed)."""
    return check_task(hparams.get("task") or DEFAULT_TASK)


def scores(logits: torch.Tensor, task: Task) -> torch.Tensor:
    """Class probabilities of logits (last dimension: classes), in float32: a softmax, or a sigmoid per class."""
    logits = logits.float()
    return logits.sigmoid() if task == "multilabel" else logits.softmax(-1)
