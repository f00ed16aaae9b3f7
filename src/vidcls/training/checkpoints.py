"""Checkpoints for training: the classifier's arguments in one, and finding the run to resume.

Reading a checkpoint back as a network, its clip and its classes is below training, in
:mod:`vidcls.models.checkpoint` (prediction and export need no Lightning); its hyperparameters are
read by :func:`~vidcls.models.checkpoint.checkpoint_hparams` there, with ``weights_only=True``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vidcls.errors import VidclsError
from vidcls.io import load_file
from vidcls.models.checkpoint import checkpoint_hparams
from vidcls.training.classifier import VideoClassifier


def classifier_arguments(hparams: Mapping[str, Any]) -> dict[str, Any]:
    """The hyperparameters that are ``VideoClassifier`` arguments, as Lightning's load_from_checkpoint keeps them
    (LightningCLI adds others, such as ``_instantiator``)."""
    accepted = inspect.signature(VideoClassifier).parameters
    return {key: value for key, value in hparams.items() if key in accepted}


def find_resumable_checkpoint(root: str | Path, model: str, classes: Sequence[str] | None,
                              model_options: Mapping | None = None) -> Path:
    """What ``--ckpt_path last`` means: the newest checkpoint under ``root`` of this run's model and classes.

    ``last*.ckpt`` files first, then any checkpoint. A checkpoint of another model, other model
    options or another class list is never taken (resuming it would fail, or silently continue
    another experiment); when none fits, the error names what was found.
    """
    root = Path(root)
    found: list[str] = []
    for pattern in ("last*.ckpt", "*.ckpt"):
        for path in sorted(root.rglob(pattern), key=lambda p: p.stat().st_mtime, reverse=True):
            try:
                hparams = checkpoint_hparams(load_file(path, mmap=True), path)  # mmap: the weights stay on disk
            except VidclsError:
                found.append(f"{path} (not a vidcls checkpoint)")
                continue
            same_model = hparams.get("model") == model and (hparams.get("model_options") or {}) == dict(model_options or {})
            if same_model and (classes is None or list(hparams["classes"]) == list(classes)):
                return path
            found.append(f"{path} ({hparams.get('model')}, {len(hparams['classes'])} classes)")
        if found:
            break
    wanted = f"{model}" + (f" with these {len(classes)} classes" if classes is not None else "")
    if not found:
        raise VidclsError(f"{root}: no checkpoint to resume from (--ckpt_path last looks under trainer.default_root_dir)")
    raise VidclsError(f"{root}: no checkpoint of {wanted} to resume; found {'; '.join(found[:3])}"
                      + (f" and {len(found) - 3} more" if len(found) > 3 else ""))
