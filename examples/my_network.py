"""Your own network in vidcls, without editing vidcls: ``--model.model my_network:build_net``.

Put this folder on PYTHONPATH (``PYTHONPATH=examples vidcls fit ...``). vidcls calls
``build_net(num_classes=..., **model_options)`` and feeds the network ``B×C×T×H×W`` clips; it
returns ``B×num_classes`` logits. ``build_net.head`` names the classifier module, so
``--model.freeze_backbone`` and ``--model.pretrained`` (a vidcls checkpoint) can find it.
"""

import torch
from torch import nn


class SmallVideoNet(nn.Module):
    """Two 3D conv blocks, a global average and a linear classifier."""

    def __init__(self, num_classes: int, width: int = 16):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv3d(3, width, kernel_size=3, padding=1), nn.BatchNorm3d(width), nn.ReLU(), nn.MaxPool3d((1, 2, 2)),
            nn.Conv3d(width, 2 * width, kernel_size=3, padding=1), nn.BatchNorm3d(2 * width), nn.ReLU(),
            nn.AdaptiveAvgPool3d(1), nn.Flatten(),
        )
        self.classifier = nn.Linear(2 * width, num_classes)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(clips))


def build_net(num_classes: int, **options) -> nn.Module:
    return SmallVideoNet(num_classes, **options)


build_net.head = "classifier"
