"""Checkpoints: reading one back (classifier, classes and clip contract) and finding the run to resume.

Every file is read with ``weights_only=True`` (:func:`vidcls.io.load_file`), so a checkpoint from
anywhere never runs code.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vidcls.clip import ClipSpec
from vidcls.errors import VidclsError
from vidcls.io import load_file
from vidcls.training.classifier import VideoClassifier

HPARAMS_KEY = "hyper_parameters"  # LightningModule.CHECKPOINT_HYPER_PARAMS_KEY, without importing Lightning
DATAMODULE_HPARAMS_KEY = "datamodule_hyper_parameters"


def checkpoint_hparams(checkpoint: object, path: str | Path) -> dict[str, Any]:
    """The classifier's hyperparameters, with its clip contract; one line naming ``path`` when it is no vidcls checkpoint.

    Checkpoints written before the clip contract existed kept the clip in the datamodule's
    hyperparameters: it is taken from there, so they load as before.
    """
    hparams = checkpoint.get(HPARAMS_KEY) if isinstance(checkpoint, Mapping) else None
    if not hparams or not hparams.get("classes") or "state_dict" not in checkpoint:
        raise VidclsError(f"{path}: not a vidcls checkpoint (no classes or no weights)")
    hparams = dict(hparams)
    if not hparams.get("clip"):
        data = checkpoint.get(DATAMODULE_HPARAMS_KEY) or {}
        legacy = {key: data[key] for key in ClipSpec.field_names() if data.get(key) is not None}
        hparams["clip"] = ClipSpec(**legacy).to_dict() if legacy else None
    return hparams


def classifier_arguments(hparams: Mapping[str, Any]) -> dict[str, Any]:
    """The hyperparameters that are ``VideoClassifier`` arguments, as Lightning's load_from_checkpoint keeps them
    (LightningCLI adds others, such as ``_instantiator``)."""
    accepted = inspect.signature(VideoClassifier).parameters
    return {key: value for key, value in hparams.items() if key in accepted}


def load_checkpoint(path: str | Path) -> tuple[VideoClassifier, ClipSpec]:
    """The classifier (eval mode, CPU) and clip contract of a checkpoint, read once and without unpickling code."""
    path = Path(path)
    if not path.is_file():
        raise VidclsError(f"{path}: no such checkpoint")
    checkpoint = load_file(path)
    hparams = checkpoint_hparams(checkpoint, path)
    model = VideoClassifier(**classifier_arguments(hparams))
    model.load_state_dict(checkpoint["state_dict"])
    clip = model.clip_preset
    if clip is None:
        raise VidclsError(f"{path}: the checkpoint records no clip settings")
    return model.eval(), clip


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
