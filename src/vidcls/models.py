"""Model registry: a name → a builder ``(num_classes, **options) → nn.Module``.

Models take ``B×C×T×H×W`` float clips and return ``B×num_classes`` logits. Builders are plain
functions registered with :func:`register_model`; :func:`build_model` is the single entry point
(the idea of timm's ``create_model``, at a tenth of the size).
"""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Callable
from dataclasses import dataclass


import torch
from torch import nn

with warnings.catch_warnings():  # pytorchvideo 0.1.5 calls the deprecated torch.jit.script at import
    warnings.simplefilter("ignore", FutureWarning)
    from pytorchvideo.models.resnet import create_resnet

Builder = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelEntry:
    builder: Builder
    description: str


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(name: str, description: str) -> Callable[[Builder], Builder]:
    """Decorator: make ``builder`` available to :func:`build_model` under ``name``."""

    def add(builder: Builder) -> Builder:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        _REGISTRY[name] = ModelEntry(builder, description)
        return builder

    return add


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style pattern, sorted."""
    return sorted(name for name in _REGISTRY if fnmatch.fnmatch(name, pattern))


def describe_model(name: str) -> str:
    return _entry(name).description


def build_model(name: str, num_classes: int, **options) -> nn.Module:
    """Build a registered model with a ``num_classes``-way classifier; ``options`` go to its builder."""
    return _entry(name).builder(num_classes=num_classes, **options)


def _entry(name: str) -> ModelEntry:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    return _REGISTRY[name]


@register_model("slow_r50", "Slow-only 3D ResNet-50 (PyTorchVideo), 8 frames: Kinetics-400 74.6 % top-1 published")
def slow_r50(num_classes: int = 400, **options) -> nn.Module:
    """PyTorchVideo's slow_r50 through its ``create_resnet`` factory (BatchNorm3d, ReLU).

    Architecture and parameter names match PyTorchVideo's published ``slow_r50`` (stem kernel
    1×7×7), so its checkpoints load. The tutorial's variant has a 3×7×7 stem:
    ``stem_conv_kernel_size=(3, 7, 7)``. Any ``create_resnet`` keyword can be passed.
    """
    settings = dict(stem_conv_kernel_size=(1, 7, 7), head_pool_kernel_size=(8, 7, 7))
    settings.update(options)
    model = create_resnet(model_num_class=num_classes, **settings)
    # The factory's fixed-size average pool only fits 8×224² clips; adaptive pooling computes the
    # same average there and also accepts any other clip size (256² test crops, 16 frames, ...).
    model.blocks[-1].pool = nn.AdaptiveAvgPool3d(1)
    return model


class Simple3DCNN(nn.Module):
    """A plain stack of 3D conv blocks, small enough to train on a laptop CPU in minutes.

    Every block convolves in time as well as space, so motion is seen from the first layer: at
    demo scale this learns motion classes far faster than a slow-only ResNet, which has no
    temporal convolution before res4.
    """

    def __init__(self, num_classes: int, widths: tuple[int, ...] = (16, 32, 64, 128), dropout: float = 0.2):
        super().__init__()
        blocks, in_channels = [], 3
        for i, width in enumerate(widths):
            blocks += [
                nn.Conv3d(in_channels, width, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm3d(width),
                nn.ReLU(inplace=True),
                # keep time at full resolution in the first block, halve everything after
                nn.MaxPool3d((1, 2, 2) if i == 0 else 2, ceil_mode=True),
            ]
            in_channels = width
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(in_channels, num_classes))

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(clips))


@register_model("simple3d", "Plain 4-block 3D CNN, 0.3 M parameters: CPU demos and tests")
def simple3d(num_classes: int, **options) -> nn.Module:
    return Simple3DCNN(num_classes, **options)
