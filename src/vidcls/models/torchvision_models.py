"""torchvision's Kinetics-400 video models, built without weights (``--model.pretrained NAME`` loads them).

Parameter names are torchvision's, so its published state dicts load unchanged. Their
descriptions, clip presets and weight URLs are in :mod:`vidcls.models.catalog`, read from the
installed weights enums (a test keeps them equal).
"""

from __future__ import annotations

from torch import nn
from torchvision.models import get_model_weights, video


def published_classes(name: str, pretrained: str | None = None) -> list[str]:
    """The Kinetics-400 class names of ``name``'s published head, in head order (its weights enum's categories)."""
    return list(get_model_weights(name).KINETICS400_V1.meta["categories"])


def _build(builder, num_classes: int, **options) -> nn.Module:
    """A torchvision video model with random weights and a ``num_classes``-way head."""
    return builder(weights=None, num_classes=num_classes, **options)


def r3d_18(num_classes: int, **options) -> nn.Module:
    return _build(video.r3d_18, num_classes, **options)


def mc3_18(num_classes: int, **options) -> nn.Module:
    return _build(video.mc3_18, num_classes, **options)


def r2plus1d_18(num_classes: int, **options) -> nn.Module:
    return _build(video.r2plus1d_18, num_classes, **options)


def mvit_v2_s(num_classes: int, **options) -> nn.Module:
    return _build(video.mvit_v2_s, num_classes, **options)


def swin3d_t(num_classes: int, **options) -> nn.Module:
    return _build(video.swin3d_t, num_classes, **options)


def s3d(num_classes: int, **options) -> nn.Module:
    """torchvision's S3D with a global average before its classifier.

    S3D averages 2x7x7 windows (stride 1) before its 1x1x1 classifier conv and then averages
    the logits, so it needs >= 14 frames at >= 224². A global average takes any clip; at 224²
    it is the same in space, and in time it weighs the first and last feature frames like the
    others (64 frames: 1/8 each instead of 1/14): a small change to the published model.
    """
    model = _build(video.s3d, num_classes, **options)
    model.avgpool = nn.AdaptiveAvgPool3d(1)
    return model
