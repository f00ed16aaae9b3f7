"""The model registry: a name → a builder ``(num_classes, **options) → nn.Module``, its input preset,
its head and its published weights.

Models take ``B×C×T×H×W`` float clips and return ``B×num_classes`` logits. Builders are plain
functions registered with :func:`register_model`; :func:`build_model` is the single entry point
(the idea of timm's ``create_model``, at a tenth of the size). A model knows the input it was
trained on (its :class:`InputPreset`, as torchvision's weights enums do), so a config names only
the model.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from vidcls.data.transforms import KINETICS_MEAN, KINETICS_STD

Builder = Callable[..., nn.Module]

# Kinetics videos are 30 fps: PyTorchVideo and PySlowFast give "frames x sampling rate" at that rate.
SOURCE_FPS = 30


@dataclass(frozen=True)
class InputPreset:
    """The clips a model was trained on; `vidcls fit` uses them for every clip setting left at its default.

    ``num_frames`` frames taken every ``sampling_rate`` frames of a 30 fps video, so a clip spans
    ``num_frames * sampling_rate / 30`` seconds. Training scales the short side to a random size in
    [``min_scale``, ``max_scale``] and crops ``crop_size``; evaluation scales it to ``eval_resize``
    and centre-crops ``crop_size``. ``slowfast_alpha``: SlowFast's slow pathway sees one frame in alpha.
    """

    num_frames: int
    sampling_rate: int
    crop_size: int
    min_scale: int
    max_scale: int
    eval_resize: int
    mean: tuple[float, float, float] = KINETICS_MEAN
    std: tuple[float, float, float] = KINETICS_STD
    slowfast_alpha: int | None = None

    @property
    def clip_duration(self) -> float:
        return self.num_frames * self.sampling_rate / SOURCE_FPS

    def data_settings(self) -> dict[str, Any]:
        """The preset as ``VideoDataModule`` arguments."""
        return {
            "num_frames": self.num_frames,
            "clip_duration": self.clip_duration,
            "crop_size": self.crop_size,
            "min_scale": self.min_scale,
            "max_scale": self.max_scale,
            "eval_resize": self.eval_resize,
            "mean": self.mean,
            "std": self.std,
        }


@dataclass(frozen=True)
class ModelEntry:
    builder: Builder
    description: str
    preset: InputPreset | None = None
    head: str | None = None  # the final classifier layer's module name: replaced for new classes, kept trainable when frozen
    weights_url: str | None = None  # published Kinetics-400 weights, loadable with --model.pretrained NAME


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    name: str,
    description: str,
    *,
    preset: InputPreset | None = None,
    head: str | None = None,
    weights_url: str | None = None,
) -> Callable[[Builder], Builder]:
    """Decorator: make ``builder`` available to :func:`build_model` under ``name``."""

    def add(builder: Builder) -> Builder:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        _REGISTRY[name] = ModelEntry(builder, description, preset, head, weights_url)
        return builder

    return add


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style pattern, sorted."""
    return sorted(name for name in _REGISTRY if fnmatch.fnmatch(name, pattern))


def describe_model(name: str) -> str:
    """One line for ``vidcls models``: what the model is and its published accuracy."""
    return model_entry(name).description


def get_preset(name: str) -> InputPreset | None:
    """The input a model was trained on (None for models without a published recipe)."""
    return model_entry(name).preset


def build_model(name: str, num_classes: int, **options) -> nn.Module:
    """Build a registered model with a ``num_classes``-way classifier; ``options`` go to its builder."""
    return model_entry(name).builder(num_classes=num_classes, **options)


def model_entry(name: str) -> ModelEntry:
    """Everything registered under ``name``; an unknown name lists the choices."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    return _REGISTRY[name]
