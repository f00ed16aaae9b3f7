"""Train and eval presets: the tutorial's video transforms on torchvision.transforms.v2.

Spatial work (resize, crop, flip) runs on uint8 frames, before conversion to float, so it moves
a quarter of the bytes; training crops before it resizes, so it resizes only the pixels it keeps.
Input is a decoded clip ``T×C×H×W`` uint8; output is what the models take, ``C×T×H×W`` float,
normalised. :func:`train_transform`, :func:`eval_transform` and :func:`multi_view_transform` build each
preset from the one clip contract (:class:`~vidcls.clip.ClipSpec`); the evaluation presets round
the resize and the crop positions as the clip's ``eval_rounding`` library does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchvision.transforms import v2

from vidcls.clip import (
    KINETICS_MEAN,
    KINETICS_STD,
    ClipSpec,
    EvalResizeMode,
    EvalRounding,
    Interpolation,
    crop_offset,
    resized_size,
)


class Normalise:
    """uint8 ``…×T×C×H×W`` → float ``…×C×T×H×W`` (the models' layout, contiguous), scaled to [0, 1] and normalised.

    The last step of every preset: one strided copy into the new layout, then one multiply and
    one subtract per value. torchvision's ``ToDtype`` + ``Normalize`` and a permuted view compute
    the same (to 1e-6) but took 4.3 ms per 8×3×224×224 clip against 0.6 ms here, one core, and
    a contiguous clip makes the batch's collation a plain copy. Leading dimensions (a batch of
    clips, their crops) are kept: each value is computed as it would be alone.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        std_tensor = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1, 1)
        self.scale = 1 / (255 * std_tensor)
        self.shift = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1, 1) / std_tensor
        self._on_device: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}  # no copy to a GPU per batch

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        channels_first = frames.transpose(-4, -3)
        out = torch.empty(channels_first.shape, dtype=torch.float32, device=frames.device)
        out.copy_(channels_first)
        scale, shift = self._constants(frames.device)
        return out.mul_(scale).sub_(shift)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_on_device": {}}  # a worker gets no GPU tensors

    def _constants(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if device.type == "cpu":
            return self.scale, self.shift
        if device not in self._on_device:
            self._on_device[device] = (self.scale.to(device), self.shift.to(device))
        return self._on_device[device]


def unnormalise(video: torch.Tensor, clip: ClipSpec) -> torch.Tensor:
    """A normalised model input ``C×T×H×W`` back to viewable uint8 frames ``T×H×W×C``: what the network saw, for pages."""
    mean = torch.tensor(clip.mean, device=video.device).view(-1, 1, 1, 1)
    std = torch.tensor(clip.std, device=video.device).view(-1, 1, 1, 1)
    pixels = (video.float() * std + mean).mul_(255).round_().clamp_(0, 255)
    return pixels.to(torch.uint8).permute(1, 2, 3, 0).cpu()


class CubeErasing(v2.RandomErasing):
    """VideoMAE's random erasing of a normalised ``C×T×H×W`` clip: with probability ``p``, one box, the
    same on every frame, filled with fresh standard normal noise per pixel, channel and frame
    (random_erasing.py's ``_erase_cube`` in "pixel" mode: run_class_finetuning.py's ``--remode pixel
    --recount 1``, applied by kinetics.py's ``_aug_frame`` after normalisation and the crop).

    The box is torchvision's RandomErasing draw (area 2-33 % of the frame, aspect 0.3-3.3, VideoMAE's
    random_erasing.py defaults too); torchvision's own fill would be one noise patch for all frames.
    """

    def __init__(self, p: float):
        super().__init__(p=p, value="random")

    def transform(self, inpt: torch.Tensor, params: dict) -> torch.Tensor:
        if params["v"] is not None:  # None: no box fitted in its 10 draws, nothing is erased
            top, left = params["i"], params["j"]
            inpt[..., top : top + params["h"], left : left + params["w"]].normal_()  # the clip is the preset's own
        return inpt


def rand_augment(num_ops: int, magnitude: int) -> v2.RandAugment:
    """torchvision's RandAugment on the papers' 0-10 magnitude scale (timm's, which VideoMAE's
    ``--aa rand-m7-n4-mstd0.5-inc1`` uses): 11 bins put magnitude ``m`` at ``m / 10`` of each
    operation's range (shear 0.3, rotation 30°, translation 45 % of the side), as in timm.

    One draw of operations, signs and magnitudes per call, applied to the whole ``T×C×H×W`` clip, so
    every frame gets the same operations (VideoMAE's rand_augment.py applies each to every frame
    of its list). Where it differs from timm's: no magnitude noise (``mstd0.5``), every drawn
    operation applies (timm: each with probability 0.5), torchvision's operation set (Identity, no
    Invert or SolarizeAdd) and Posterize scale; bilinear, not bicubic, resampling (tensors have
    no bicubic affine); grey (128) fills uncovered corners, as timm's default.
    """
    return v2.RandAugment(num_ops, magnitude, num_magnitude_bins=11, interpolation=v2.InterpolationMode.BILINEAR, fill=128)


class TrainPreset:
    """Random short-side scale, random crop, horizontal flip, then scale to [0, 1] and normalise.

    Defaults are the tutorial's: short side in [256, 320], crop 224, flip p=0.5. Set
    ``hflip_prob=0`` when left and right are different classes. ``randaug_ops`` > 0 applies
    :func:`rand_augment` to the decoded frames first (VideoMAE's and PySlowFast's order: before
    the crop); ``erase_prob`` > 0 applies :class:`CubeErasing` to the normalised clip last.
    ``interpolation`` is the resize's filter ("bilinear", or "bicubic" as VideoPrism's processor).

    Equivalent to ``RandomResize`` → ``RandomCrop`` → ``RandomHorizontalFlip``, done in the
    cheaper order: the source pixels that the crop of the scaled clip would show are cut first
    and resized to the crop size (half the resize work at the defaults). The random draws
    are those transforms', in their order, so a seed picks the same scale, position and flip;
    the pixels differ only by the rounding of the crop box to whole source pixels
    (``tests/data/test_transforms.py`` checks both).
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
        randaug_ops: int = 0,
        randaug_magnitude: int = 7,
        erase_prob: float = 0.0,
        interpolation: Interpolation = "bilinear",
    ):
        self.crop_size = crop_size
        self.interpolation = v2.InterpolationMode(interpolation)
        self.min_scale = min_scale
        self.max_scale = max_scale
        self.hflip_prob = hflip_prob
        self.normalise = Normalise(mean, std)
        self.rand_augment = rand_augment(randaug_ops, randaug_magnitude) if randaug_ops else None
        self.erasing = CubeErasing(erase_prob) if erase_prob else None

    def crop_box(self, height: int, width: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) in the source of a random crop of the randomly scaled frame."""
        short = int(torch.randint(self.min_scale, self.max_scale + 1, ()))
        # torchvision's resize keeps the aspect ratio by truncating the long side
        if width <= height:
            scaled_h, scaled_w = int(short * height / width), short
        else:
            scaled_h, scaled_w = short, int(short * width / height)
        size = self.crop_size
        top = int(torch.randint(0, scaled_h - size + 1, ())) if scaled_h > size else 0
        left = int(torch.randint(0, scaled_w - size + 1, ())) if scaled_w > size else 0
        y0, y1 = round(top * height / scaled_h), round((top + size) * height / scaled_h)
        x0, x1 = round(left * width / scaled_w), round((left + size) * width / scaled_w)
        return y0, x0, y1 - y0, x1 - x0

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        if self.rand_augment is not None:
            frames = self.rand_augment(frames)
        top, left, height, width = self.crop_box(*frames.shape[-2:])
        size = [self.crop_size, self.crop_size]
        frames = v2.functional.resized_crop(frames, top, left, height, width, size, self.interpolation, antialias=True)
        if torch.rand(1) < self.hflip_prob:
            frames = frames.flip(-1)
        clip = self.normalise(frames)
        return clip if self.erasing is None else self.erasing(clip)


class MultiViewPreset:
    """Evaluation with several spatial crops: short-side resize, then ``num_crops`` squares of
    ``crop_size`` spread evenly along the long side (left, centre, right for 3, as in the
    standard 3-crop test protocol), normalised. Returns ``num_crops×C×T×H×W``.

    The resized size and the crop positions are rounded as ``rounding``'s library rounds them
    (:data:`~vidcls.clip.ROUNDING_RULES`), so a family's clip is its reference evaluation's to the pixel.
    ``resize_mode`` "square" resizes the whole frame to ``resize_size`` × ``resize_size`` (aspect not
    kept); its crops are then spread along the width, all the whole frame when ``crop_size`` is ``resize_size``.
    """

    def __init__(
        self,
        *,
        crop_size: int = 224,
        resize_size: int = 256,
        num_crops: int = 3,
        mean: Sequence[float] = KINETICS_MEAN,
        std: Sequence[float] = KINETICS_STD,
        rounding: EvalRounding = "torchvision",
        resize_mode: EvalResizeMode = "short_side",
        interpolation: Interpolation = "bilinear",
    ):
        self.crop_size = crop_size
        self.resize_size = resize_size
        self.num_crops = num_crops
        self.rounding = rounding
        self.resize_mode = resize_mode
        self.interpolation = v2.InterpolationMode(interpolation)
        self.normalise = Normalise(mean, std)

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        return self.normalise(self.crops(frames))

    def crops(self, frames: torch.Tensor) -> torch.Tensor:
        """The crops before normalising: uint8 ``num_crops×T×C×H×W``, a quarter of the bytes to move between processes."""
        size = resized_size(*frames.shape[-2:], self.resize_size, self.rounding, self.resize_mode)
        if size != tuple(frames.shape[-2:]):
            frames = v2.functional.resize(frames, list(size), self.interpolation, antialias=True)
        height, width = size
        crops = []
        for i in range(self.num_crops):
            position = 0.5 if self.num_crops == 1 else i / (self.num_crops - 1)
            top = crop_offset(height - self.crop_size, position if height > width else 0.5, self.rounding)
            left = crop_offset(width - self.crop_size, position if width >= height else 0.5, self.rounding)
            crops.append(v2.functional.crop(frames, top, left, self.crop_size, self.crop_size))
        return torch.stack(crops)


class EvalPreset(MultiViewPreset):
    """Short-side resize and centre crop, then scale to [0, 1] and normalise: the single centre view.

    The crop makes every clip the same size, so videos of different sizes batch together
    (the tutorial's validation loader has no crop and fails on mixed sizes).
    """

    def __init__(self, *, crop_size: int = 224, resize_size: int = 256, mean: Sequence[float] = KINETICS_MEAN,
                 std: Sequence[float] = KINETICS_STD, rounding: EvalRounding = "torchvision",
                 resize_mode: EvalResizeMode = "short_side", interpolation: Interpolation = "bilinear"):
        super().__init__(crop_size=crop_size, resize_size=resize_size, num_crops=1, mean=mean, std=std, rounding=rounding,
                         resize_mode=resize_mode, interpolation=interpolation)

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        return super().__call__(frames)[0]


def train_transform(clip: ClipSpec) -> TrainPreset:
    return TrainPreset(
        crop_size=clip.crop_size, min_scale=clip.min_scale, max_scale=clip.max_scale, hflip_prob=clip.hflip_prob,
        mean=clip.mean, std=clip.std, randaug_ops=clip.randaug_ops, randaug_magnitude=clip.randaug_magnitude,
        erase_prob=clip.erase_prob, interpolation=clip.interpolation,
    )


def eval_transform(clip: ClipSpec) -> EvalPreset:
    return EvalPreset(crop_size=clip.crop_size, resize_size=clip.eval_resize, mean=clip.mean, std=clip.std,
                      rounding=clip.eval_rounding, resize_mode=clip.eval_resize_mode, interpolation=clip.interpolation)


def multi_view_transform(clip: ClipSpec) -> MultiViewPreset:
    return MultiViewPreset(
        crop_size=clip.crop_size, resize_size=clip.eval_resize, num_crops=clip.test_crops, mean=clip.mean, std=clip.std,
        rounding=clip.eval_rounding, resize_mode=clip.eval_resize_mode, interpolation=clip.interpolation,
    )
