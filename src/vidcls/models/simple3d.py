"""A small plain 3D CNN for CPU demos and tests."""

from __future__ import annotations

import torch
from torch import nn


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


def simple3d(num_classes: int, **options) -> nn.Module:
    return Simple3DCNN(num_classes, **options)
