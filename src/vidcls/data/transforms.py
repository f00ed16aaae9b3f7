"""Train and eval presets: the tutorial's video transforms on torchvision.transforms.v2.

Spatial work (resize, crop, flip) runs on uint8 frames, before conversion to float, so it moves
a quarter of the bytes. Input is a decoded clip ``T×C×H×W`` uint8; output is what the models
take, ``C×T×H×W`` float, normalised.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchvision.transforms import v2

# Kinetics statistics used by PyTorchVideo's model zoo (its tutorial and trainer configs).
KINETICS_MEAN = (0.45, 0.45, 0.45)
KINETICS_STD = (0.225, 0.225, 0.225)


class TrainPreset:
    """Random short-side scale, random crop, horizontal flip, then scale to [0, 1] and normalise.

    Defaults are the tutorial's: short side in [256, 320], crop 224, flip p=0.5. Set
    ``hflip_prob=0`` when left and right are different classes.
    """

    def __init__(
        self,
        *,
        crop_size: int = 224,
        min_scale: int = 256,
        max_scale: int = 320,
        hflip_prob: float = 0.5,
        mean: Sequence[float] = KINETICS_MEAN,
        std: Sequence[float] = KINETICS_STD,
    ):
        self.transforms = v2.Compose(
            [
                v2.RandomResize(min_scale, max_scale + 1, antialias=True),  # short side; upper bound exclusive
                v2.RandomCrop(crop_size),
                v2.RandomHorizontalFlip(hflip_prob),
                v2.ToDtype(torch.float32, scale=True),
                v2.Normalize(mean=list(mean), std=list(std)),
            ]
        )

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        return self.transforms(frames).permute(1, 0, 2, 3)


class EvalPreset:
    """Short-side resize and centre crop, then scale to [0, 1] and normalise.

    The crop makes every clip the same size, so videos of different sizes batch together
    (the tutorial's validation loader has no crop and fails on mixed sizes).
    """

    def __init__(
        self,
        *,
        crop_size: int = 224,
        resize_size: int = 256,
        mean: Sequence[float] = KINETICS_MEAN,
        std: Sequence[float] = KINETICS_STD,
    ):
        self.transforms = v2.Compose(
            [
                v2.Resize(resize_size, antialias=True),
                v2.CenterCrop(crop_size),
                v2.ToDtype(torch.float32, scale=True),
                v2.Normalize(mean=list(mean), std=list(std)),
            ]
        )

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        return self.transforms(frames).permute(1, 0, 2, 3)
