"""The model registry: a name → everything vidcls knows about that model, in one :class:`ModelCard`:
its builder ``(num_classes, **options) → nn.Module``, its clip preset (or the rule that reads it from
a checkpoint), its head, the weight layouts it reads, its published weights and their classes.

Models take ``B×C×T×H×W`` float clips and return ``B×num_classes`` logits. :func:`build_model` is
the single entry point (the idea of timm's ``create_model``). A model knows the clip it was trained
on (its preset, a :class:`~vidcls.clip.ClipSpec`, as torchvision's weights enums carry theirs), so
a config names only the model.

This module imports no torch: a builder may be given as ``"module:function"`` and is imported
when a model is built, so listing models and reading presets (``vidcls models``, the CLI) is cheap.

A name that is not registered but reads ``package.module:function`` is the user's own network
(:func:`model_entry`): the function takes ``num_classes`` and keyword options and returns a module
mapping ``B×C×T×H×W`` clips to ``B×num_classes`` logits. It has the ClipSpec defaults for a preset;
its head is the function's ``head`` attribute if it has one (``build_net.head = "fc"``), else unknown
(no ``--model.pretrained`` head replacement, no ``--model.freeze_backbone``). To give a preset too,
register it with :func:`register_model` instead.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vidcls.clip import ClipSpec
from vidcls.errors import VidclsError

if TYPE_CHECKING:
    from torch import nn

Builder = Callable[..., "nn.Module"]
# The checkpoint layouts a state-dict model's weights may come in (vidcls.models.pretrained reads them): a vidcls
# checkpoint (classes in its hyperparameters, the network's keys under "network."), PyTorchVideo's
# {"model_state": ...}, and a plain state dict (torchvision's).
WEIGHT_LAYOUTS = ("vidcls", "pytorchvideo", "state_dict")


@dataclass(frozen=True)
class HubFamily:
    """What vidcls needs to know about one transformers video classifier (class names, not classes: imported on use)."""

    config: str
    model: str
    processor: str
    frames_key: str  # the config field holding the frames per clip
    size_key: str  # the config field holding the (square) input size
    # the transformer blocks' ModuleList, or several in depth order (VideoPrism's spatial, then temporal, blocks):
    # layer-wise lr decay, drop path
    blocks: str | tuple[str, ...]
    embeddings: str | tuple[str, ...]  # patch and position embeddings: the lowest "layer" of layer-wise decay
    sampling_rate: int  # frames of a 30 fps video per sampled frame, in the family's published Kinetics recipe
    rescale_offset: float = 0.0  # added after rescaling: ViViT's processor maps uint8 to [-1, 1] (x / 127.5 - 1)
    drop_path_in_config: bool = False  # the config has drop_path_rate; else vidcls adds stochastic depth
    unused: str | None = None  # a module classification never runs (kept frozen): V-JEPA 2's pre-training predictor


@dataclass(frozen=True)
class ModelCard:
    """Everything vidcls knows about one registered model."""

    name: str
    description: str  # one line for `vidcls models`: what it is and its published accuracy
    builder: Builder | str  # a callable, or "package.module:function" imported on first use
    preset: ClipSpec | None = None  # the clips it was trained on; None: the ClipSpec defaults
    # the classifier's module names (the final layer, and any pooling head trained with it): replaced for new
    # classes, kept trainable when frozen
    head: str | tuple[str, ...] | None = None
    weights_url: str | None = None  # published Kinetics-400 weights, loadable with --model.pretrained NAME
    # Hub families: "module:function" (model, pretrained, model_options) → ClipSpec, read from the checkpoint's own
    # config and processor config; the builder then takes ``pretrained`` (a Hub id or save_pretrained folder),
    # ``classes`` (its labels) and ``config`` (a recorded configuration) and loads its weights itself
    preset_for: str | None = None
    # the layouts (WEIGHT_LAYOUTS) its --model.pretrained files may come in; Hub families load their own
    weight_layouts: tuple[str, ...] = ("vidcls", "state_dict")
    # "module:function" (model, pretrained) → the class names of its published head in head order, or None
    published_classes: str | None = None
    hub: HubFamily | None = None  # a transformers family: its classes, config keys and modules

    @property
    def loads_own_weights(self) -> bool:
        """True for Hub families: ``--model.pretrained`` goes to the builder, not to a state-dict loader."""
        return self.preset_for is not None

    def resolve_builder(self) -> Builder:
        """The builder, imported now; a Hub family's one builder is given its family's name first."""
        builder = self.builder if callable(self.builder) else _resolve(self.builder)
        return functools.partial(builder, self.name) if self.hub else builder


def _resolve(reference: str) -> Callable:
    """The function named by ``"package.module:function"``, imported now; a bad reference is one line saying why."""
    module, _, function = reference.partition(":")
    if not module or not function:
        raise VidclsError(f"model {reference!r}: give a registered name or package.module:function")
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise VidclsError(f"model {reference!r}: no module {error.name!r} (is it on PYTHONPATH?)") from error
    found = getattr(imported, function, None)
    if found is None:
        raise VidclsError(f"model {reference!r}: module {module} has no {function!r}")
    if not callable(found):
        raise VidclsError(f"model {reference!r}: {function} is a {type(found).__name__}, not a function")
    return found


_REGISTRY: dict[str, ModelCard] = {}


def add_model(card: ModelCard) -> None:
    """Register ``card`` under its name; a name is registered once."""
    if card.name in _REGISTRY:
        raise ValueError(f"model {card.name!r} is already registered")
    _REGISTRY[card.name] = card


def register_model(
    name: str,
    description: str,
    *,
    preset: ClipSpec | None = None,
    head: str | tuple[str, ...] | None = None,
    weights_url: str | None = None,
) -> Callable[[Builder], Builder]:
    """Decorator for your own models: make ``builder`` available to :func:`build_model` under ``name``."""

    def add(builder: Builder) -> Builder:
        add_model(ModelCard(name, description, builder, preset, head, weights_url))
        return builder

    return add


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style pattern, sorted."""
    return sorted(name for name in _REGISTRY if fnmatch.fnmatch(name, pattern))


def describe_model(name: str) -> str:
    """One line for ``vidcls models``: what the model is and its published accuracy."""
    return model_entry(name).description


def get_preset(name: str, pretrained: str | None = None, options: Mapping[str, Any] | None = None) -> ClipSpec | None:
    """The clips a model was trained on (None for models without a published recipe).

    A Hub family's clip is its checkpoint's (``pretrained``), or its configuration's (``options``).
    """
    card = model_entry(name)
    if card.preset_for is not None:
        return _resolve(card.preset_for)(name, pretrained, dict(options or {}))
    return card.preset


def build_model(name: str, num_classes: int, **options) -> nn.Module:
    """Build a registered model with a ``num_classes``-way classifier; ``options`` go to its builder."""
    return model_entry(name).resolve_builder()(num_classes=num_classes, **options)


def model_entry(name: str) -> ModelCard:
    """Everything registered under ``name``, or the user's own network named ``package.module:function``.

    An unknown name lists the choices.
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    if ":" in name:
        builder = _resolve(name)
        head = getattr(builder, "head", None)
        return ModelCard(name, f"{name} (your own network)", builder, head=tuple(head) if isinstance(head, list) else head)
    raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())} (or your own: package.module:function)")


def published_classes(name: str, pretrained: str | None = None) -> list[str] | None:
    """The class names of ``name``'s published head, in head order (a Hub family: ``pretrained``'s); None if unknown."""
    card = model_entry(name)
    return None if card.published_classes is None else _resolve(card.published_classes)(name, pretrained)
