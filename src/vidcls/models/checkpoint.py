"""A vidcls checkpoint read back as a network, its clip contract, its classes and its task, without the training stack.

Prediction and export need only what the network computes and how its input was made: this
module rebuilds the network from the checkpoint's hyperparameters and loads its weights, so they
run without Lightning or torchmetrics in the process. Training resumes through Lightning itself
(``vidcls.training``); both read the hyperparameters with :func:`checkpoint_hparams`.

Every file is read with ``weights_only=True`` (:func:`vidcls.io.load_file`), so a checkpoint from
anywhere never runs code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from vidcls.clip import ClipSpec
from vidcls.errors import VidclsError
from vidcls.io import load_file
from vidcls.models import get_preset
from vidcls.models.pretrained import build_network
from vidcls.task import Task, task_of

HPARAMS_KEY = "hyper_parameters"  # LightningModule.CHECKPOINT_HYPER_PARAMS_KEY, without importing Lightning
DATAMODULE_HPARAMS_KEY = "datamodule_hyper_parameters"  # LightningDataModule.CHECKPOINT_HYPER_PARAMS_KEY
NETWORK_PREFIX = "network."  # the classifier holds the network as ``self.network``: its keys in ``state_dict``


def checkpoint_hparams(checkpoint: object, path: str | Path) -> dict[str, Any]:
    """The classifier's hyperparameters, with its clip contract and task; one line naming ``path`` when it is no vidcls checkpoint.

    Checkpoints written before the clip contract existed kept the clip in the datamodule's
    hyperparameters: it is taken from there, so they load as before. A clip stored before a clip
    setting existed (``eval_rounding``, ``sampling``...) takes that setting from its model's preset,
    which is what the run would have used: a Hub checkpoint keeps its processor's rounding. Those
    written before the task was recorded are multiclass (:func:`vidcls.task.task_of`).
    """
    hparams = checkpoint.get(HPARAMS_KEY) if isinstance(checkpoint, Mapping) else None
    if not hparams or not hparams.get("classes") or "state_dict" not in checkpoint:
        raise VidclsError(f"{path}: not a vidcls checkpoint (no classes or no weights)")
    hparams = dict(hparams)
    if not hparams.get("clip"):
        data = checkpoint.get(DATAMODULE_HPARAMS_KEY) or {}
        legacy = {key: data[key] for key in ClipSpec.field_names() if data.get(key) is not None}
        hparams["clip"] = ClipSpec(**legacy).to_dict() if legacy else None
    stored = hparams["clip"]
    if stored and (missing := set(ClipSpec.field_names()) - set(stored)):
        options = {**(hparams.get("network_config") or {}), **(hparams.get("model_options") or {})}
        try:
            preset = get_preset(hparams["model"], None, options)
        except (VidclsError, ValueError):  # a model this installation no longer knows: ClipSpec's defaults
            preset = None
        if preset is not None:
            hparams["clip"] = {**{key: getattr(preset, key) for key in missing}, **stored}
    hparams["task"] = task_of(hparams)
    return hparams


@dataclass(frozen=True)
class LoadedNetwork:
    """What a checkpoint gives inference: the network (eval mode, CPU), how to make its input, what its outputs mean."""

    network: nn.Module
    clip: ClipSpec
    classes: list[str]  # in the order of the network's outputs
    model: str  # the registry name it was built as
    hparams: dict[str, Any]  # all the classifier's hyperparameters, for whoever needs more
    task: Task = "multiclass"  # how its logits become probabilities (vidcls.task.scores)


def load_network(path: str | Path) -> LoadedNetwork:
    """The network, clip contract and classes of a checkpoint written by ``vidcls fit``, read once.

    The network is rebuilt from the recorded model name, options and (Hub families) configuration,
    so no pretrained file is read again; its weights are the checkpoint's ``network.*`` keys.
    """
    path = Path(path)
    if not path.is_file():
        raise VidclsError(f"{path}: no such checkpoint")
    checkpoint = load_file(path)
    hparams = checkpoint_hparams(checkpoint, path)
    model, classes = hparams["model"], list(hparams["classes"])
    options, network_config = hparams.get("model_options") or {}, hparams.get("network_config")
    if hparams["clip"]:
        clip = ClipSpec.from_dict(hparams["clip"])
    else:  # trained without a datamodule that records one: the clips its model was made for
        clip = get_preset(model, None, {**(network_config or {}), **options})
    if clip is None:
        raise VidclsError(f"{path}: the checkpoint records no clip settings")
    network, _ = build_network(model, classes, options, None, network_config)
    state = {key.removeprefix(NETWORK_PREFIX): value for key, value in checkpoint["state_dict"].items()
             if key.startswith(NETWORK_PREFIX)}
    own = network.state_dict()
    misfits = sorted(own.keys() ^ state.keys()) + [key for key in own.keys() & state.keys() if own[key].shape != state[key].shape]
    if misfits:  # torch's own message lists every key over many lines
        raise VidclsError(f"{path}: the weights do not fit {model} as recorded: {len(misfits)} keys missing, "
                          f"unexpected or of another shape, e.g. {misfits[0]}")
    network.load_state_dict(state)
    return LoadedNetwork(network.eval(), clip, classes, model, hparams, hparams["task"])
