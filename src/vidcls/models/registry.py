"""The model registry: a name → a builder ``(num_classes, **options) → nn.Module``, its clip preset,
its head and its published weights.

Models take ``B×C×T×H×W`` float clips and return ``B×num_classes`` logits. :func:`build_model` is
the single entry point (the idea of timm's ``create_model``). A model knows the clip it was trained
on (its preset, a :class:`~vidcls.clip.ClipSpec`, as torchvision's weights enums carry theirs), so
a config names only the model.

This module imports no torch: a builder may be given as ``"module:function"`` and is imported
when a model is built, so listing models and reading presets (``vidcls models``, the CLI) is cheap.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vidcls.clip import ClipSpec

if TYPE_CHECKING:
    from torch import nn

Builder = Callable[..., "nn.Module"]


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

    @property
    def loads_own_weights(self) -> bool:
        """True for Hub families: ``--model.pretrained`` goes to the builder, not to a state-dict loader."""
        return self.preset_for is not None

    def resolve_builder(self) -> Builder:
        return self.builder if callable(self.builder) else _resolve(self.builder)


def _resolve(reference: str) -> Callable:
    """The function named by ``"package.module:function"``, imported now."""
    module, _, function = reference.partition(":")
    return getattr(importlib.import_module(module), function)


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
    """Everything registered under ``name``; an unknown name lists the choices."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    return _REGISTRY[name]
