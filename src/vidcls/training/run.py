"""A run's classes, clip and task, decided once, before the network and the datasets are built.

The model and the data each hold half of what decides them: the data knows the classes it was
given (or finds them in its files) and the clip values the user typed; the model knows its
checkpoint's classes and the clip it was trained on (else its preset). :func:`resolve_run` reads
both and decides; :func:`link_run` hands the result to both. ``vidcls fit``/``test`` call it once,
right after building the two objects; in Python, call it before ``Trainer.fit``. Nothing is
exchanged through Lightning's hooks.

The rules: a checkpoint's classes index its weights, so the data takes them (a different list
given to the data is refused); without a checkpoint the data's classes are the run's. Each clip
value given to the data wins over the model's clip, which wins over ClipSpec's defaults
(:func:`vidcls.clip.resolve_clip`, which also scales untyped sizes to a typed one). The task is
the model's when given (typed, or its checkpoint's), else the data's (multi-label data needs
``multilabel``), else ``multiclass``; a given ``multiclass`` on multi-label data is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from vidcls.clip import ClipSpec, resolve_clip
from vidcls.data.datamodule import VideoDataModule
from vidcls.errors import VidclsError
from vidcls.task import DEFAULT_TASK, Task
from vidcls.training.classifier import VideoClassifier


@dataclass(frozen=True)
class RunSpec:
    """What a run's network and data must agree on: the class names in index order, the clip and the task."""

    classes: tuple[str, ...]
    clip: ClipSpec
    task: Task = DEFAULT_TASK


def resolve_run(model: VideoClassifier, data: VideoDataModule) -> RunSpec:
    """The classes and clip of training or testing ``model`` on ``data``; one line when they cannot agree."""
    if model.classes:
        given = data.given_classes
        if given and list(given) != model.classes:
            raise VidclsError(f"--data.classes lists {len(given)} classes in another order than the model's"
                              f" {len(model.classes)} (its checkpoint's): leave it out to use the checkpoint's")
        classes = model.classes
    else:
        classes = data.classes
    return RunSpec(tuple(classes), resolve_clip(model.clip_preset, data.given_clip), resolve_task(model.hparams.task, data.task))


def resolve_task(given: Task | None, needed: Task | None) -> Task:
    """The model's task when given, else what the data needs, else multiclass; one line when they conflict."""
    if given == "multiclass" and needed == "multilabel":
        raise VidclsError("the data gives videos several labels (multi-label), but the model's task is multiclass: "
                          "give --model.task multilabel, or leave it out (a multiclass checkpoint cannot train on them)")
    return given or needed or DEFAULT_TASK


def link_run(model: VideoClassifier, data: VideoDataModule) -> RunSpec:
    """Resolve the run once and give both sides the result: the data indexes and cuts clips by it, the model builds for it."""
    run = resolve_run(model, data)
    data.use_run(list(run.classes), run.clip, run.task)
    model.use_run(list(run.classes), run.clip, run.task)
    return run
