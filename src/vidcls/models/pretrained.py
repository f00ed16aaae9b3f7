"""Start a model from published or earlier weights: ``--model.pretrained`` and ``--model.freeze_backbone``.

Hub families (``vidcls.models.hf``) load their checkpoints themselves (:func:`build_network`); the
rest of this module is about state dicts.

A source is a local file or a registered model's name. A name fetches that model's published
Kinetics-400 weights (PyTorchVideo's model zoo or torchvision's, URLs in the registry) into the
torch hub cache; every file is read with ``weights_only=True``, so loading never runs code from it.
Three layouts are understood (each model's card says which it reads): a vidcls checkpoint (its
hyperparameters name its classes; its ``state_dict`` keys start with ``network.``); PyTorchVideo's
``{"model_state": ...}``; and a plain state dict (torchvision's).

The registry names each model's head (its final classifier layer). A head whose shape differs
(another class count) keeps its fresh initialisation; any other difference is an error, so weights
for the wrong architecture never load silently.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vidcls.errors import VidclsError
from vidcls.io import load_file, load_safely
from vidcls.models.registry import WEIGHT_LAYOUTS, build_model, list_models, model_entry, published_classes

StateDict = dict[str, torch.Tensor]
log = logging.getLogger(__name__)


def published_weights() -> dict[str, str]:
    """Model name → URL of its published Kinetics-400 weights, for every model that has some."""
    return {name: url for name in list_models() if (url := model_entry(name).weights_url)}


def read_weights(source: str, layouts: Sequence[str] = WEIGHT_LAYOUTS) -> StateDict:
    """The state dict in a local file, or in the published weights named ``source`` (downloaded once).

    ``layouts``: the checkpoint layouts (:data:`~vidcls.models.registry.WEIGHT_LAYOUTS`) the model reads.
    """
    path, urls = Path(source).expanduser(), published_weights()
    if path.is_file():
        checkpoint = load_file(path)
    elif source in urls:
        url = urls[source]
        checkpoint = load_safely(
            lambda: torch.hub.load_state_dict_from_url(url, map_location="cpu", check_hash=True, weights_only=True), url
        )
    else:
        raise VidclsError(f"pretrained {source!r}: no such file, nor published weights; known names: {', '.join(urls)}")
    return _state_dict(checkpoint, source, layouts)


def _layout(checkpoint: object) -> str | None:
    """Which of the WEIGHT_LAYOUTS ``checkpoint`` is in; None for none of them."""
    if not isinstance(checkpoint, Mapping):
        return None
    hparams = checkpoint.get("hyper_parameters")
    if "state_dict" in checkpoint and isinstance(hparams, Mapping) and hparams.get("classes"):
        return "vidcls"
    if "model_state" in checkpoint:
        return "pytorchvideo"
    tensors = bool(checkpoint) and all(isinstance(value, torch.Tensor) for value in checkpoint.values())
    return "state_dict" if tensors else None


def _state_dict(checkpoint: object, source: str, layouts: Sequence[str]) -> StateDict:
    """The network's weights out of ``checkpoint``, in one of ``layouts``."""
    layout = _layout(checkpoint)
    if layout is None:
        raise VidclsError(f"{source}: not a state dict, a vidcls checkpoint or a PyTorchVideo checkpoint")
    if layout not in layouts:
        raise VidclsError(f"{source}: a {layout} checkpoint, and this model reads {', '.join(layouts) or 'none'}")
    if layout == "vidcls":  # network.* inside the classifier
        prefix = "network."
        state = {key.removeprefix(prefix): value for key, value in checkpoint["state_dict"].items() if key.startswith(prefix)}
    else:
        state = checkpoint["model_state"] if layout == "pytorchvideo" else checkpoint
    if not state or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise VidclsError(f"{source}: its {layout} weights hold no tensors")
    return dict(state)


def build_network(
    model: str, classes: Sequence[str], options: Mapping[str, Any], pretrained: str | None = None,
    network_config: Mapping[str, Any] | None = None,
) -> tuple[nn.Module, dict[str, Any] | None]:
    """A run's network for ``classes``, started from ``pretrained``; and what rebuilds it without those files.

    Hub families load ``pretrained`` (a Hub id or a ``save_pretrained`` folder) themselves and give
    back their configuration (``network_config``: a vidcls checkpoint rebuilds the network from
    it); the others load a state dict (:func:`load_pretrained`) and need none.
    """
    if model_entry(model).loads_own_weights:
        network = build_model(model, len(classes), classes=classes, pretrained=pretrained, config=network_config, **options)
        return network, network.network_config()
    network = build_model(model, len(classes), **options)
    if pretrained:
        load_pretrained(network, model, pretrained, classes)
    return network, None


def class_order(published: Sequence[str] | None, classes: Sequence[str]) -> list[int] | None:
    """Where each of ``classes`` sits in a published head that names exactly these classes, in any order; else None.

    Such a head is kept and its rows reordered, not replaced: a published classifier tests on its
    own dataset without training, whatever order the dataset lists its classes in.
    """
    if published is None or sorted(published) != sorted(classes) or len(set(classes)) != len(classes):
        return None
    position = {name: index for index, name in enumerate(published)}
    return [position[name] for name in classes]


def reorder_rows(tensors: Mapping[str, torch.Tensor], order: Sequence[int]) -> dict[str, torch.Tensor]:
    """A head's weights and biases with their class rows (the first axis) in ``order``."""
    index = torch.tensor(order)
    return {key: value[index] if value.shape[:1] == (len(order),) else value for key, value in tensors.items()}


def load_pretrained(network: nn.Module, model: str, source: str, classes: Sequence[str] | None = None) -> list[str]:
    """Load ``source`` into ``network`` (built as registry ``model``); return the head keys left re-initialised.

    When ``source`` is the model's published weights and ``classes`` are their head's classes in
    another order, the head is kept, its rows put in the order of ``classes``.
    """
    state = read_weights(source, model_entry(model).weight_layouts)
    own = network.state_dict()
    head = _head(model)
    order = class_order(published_classes(model) if source in published_weights() else None, classes or ())
    if order is not None:
        heads = {key: value for key, value in state.items() if _in(key, head)}
        state.update(reorder_rows(heads, order))
        log.warning("Pretrained %s: its head names these classes; kept, its rows put in the data's class order", source)
    differs = [key for key in state if key in own and state[key].shape != own[key].shape]
    reinitialised = [key for key in differs if _in(key, head)]
    if wrong := [key for key in differs if key not in reinitialised]:
        key = wrong[0]
        raise VidclsError(
            f"{source}: weights do not fit {model}: {key} is {tuple(state[key].shape)} there, {tuple(own[key].shape)} here"
            + (f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else "")
        )
    for key in reinitialised:
        del state[key]
    result = network.load_state_dict(state, strict=False)
    missing = [key for key in result.missing_keys if key not in reinitialised]
    if missing or result.unexpected_keys:
        names = missing[:3] or result.unexpected_keys[:3]
        raise VidclsError(
            f"{source}: weights do not fit {model}: {len(missing)} missing and "
            f"{len(result.unexpected_keys)} unexpected keys, e.g. {', '.join(names)}"
        )
    if reinitialised:
        # a warning, as transformers' "newly initialized" weights are: shown without any logging set up
        log.warning("Pretrained %s: new head for the class count, re-initialised %s", source, ", ".join(reinitialised))
    return reinitialised


def freeze_all_but_head(network: nn.Module, model: str) -> None:
    """Train only the head (a linear probe): for few labelled videos, or a quick first run."""
    head = _head(model)
    for name, parameter in network.named_parameters():
        parameter.requires_grad = _in(name, head)


def _head(model: str) -> str | tuple[str, ...]:
    head = model_entry(model).head
    if head is None:
        raise VidclsError(f"model {model!r} names no head (register_model(..., head=...)): cannot replace or keep it")
    return head


def _in(key: str, modules: str | tuple[str, ...]) -> bool:
    return any(key.startswith(module + ".") for module in ((modules,) if isinstance(modules, str) else modules))
