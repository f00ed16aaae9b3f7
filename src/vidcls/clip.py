"""The clip contract: everything that says how a video becomes model input, in one frozen type.

A :class:`ClipSpec` is what a model's preset is, what the datamodule builds its transforms from,
what a checkpoint stores (once, as ``hyper_parameters["clip"]``) and what test, predict, export,
bench and the demo read back. Nothing else describes a clip.

Precedence, everywhere: a value the user gives (flag, YAML key, Python argument) wins over the
model's preset or its checkpoint's contract, which wins over the defaults below (the tutorial's).
Givens are told from defaults by being not ``None``, so a typed value that happens to equal a
default still wins.

This module imports nothing heavy: the CLI reads presets without importing torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Literal, get_args

from vidcls.errors import VidclsError

# Kinetics videos are 30 fps: PyTorchVideo and PySlowFast give "frames x sampling rate" at that rate.
SOURCE_FPS = 30
# Kinetics statistics used by PyTorchVideo's model zoo (its tutorial and trainer configs).
KINETICS_MEAN = (0.45, 0.45, 0.45)
KINETICS_STD = (0.225, 0.225, 0.225)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
FrameSampling = Literal["dense", "segment"]
# How a test video's views become one score per class: their mean, or their max (PySlowFast's Charades protocol).
ViewPooling = Literal["mean", "max"]

if TYPE_CHECKING:
    import torch

# Whose integer rounding an evaluation clip's resize and crop follow: each family's reference evaluation. They
# differ by a pixel on some frame sizes (installed sources: torchvision.transforms.v2 Resize and CenterCrop,
# transformers' TorchvisionBackend.center_crop, pytorchvideo.transforms.functional short_side_scale and uniform_crop).
EvalRounding = Literal["torchvision", "transformers", "pytorchvideo"]
# The same rules in words, for the export sidecar: the short side becomes eval_resize, the long side ``long``, and a crop
# starts ``offset`` into the margin (the resized side minus crop_size); the first and last of several crops sit at the edges.
ROUNDING_RULES = {
    "torchvision": {"long": "int(eval_resize * long / short)", "offset": "round(margin * position), half to even"},
    "transformers": {"long": "int(eval_resize * long / short)", "offset": "floor(margin * position)"},
    "pytorchvideo": {"long": "floor(long / short * eval_resize)", "offset": "ceil(margin * position)"},
}
# How evaluation resizes a frame: its short side to eval_resize (aspect kept), or the whole frame to an eval_resize
# square (aspect not kept: LLaVA-OneVision's video processor, which VideoPrism's checkpoints use).
EvalResizeMode = Literal["short_side", "square"]
# The resampling filter of every resize, training's and evaluation's (torchvision's, antialiased).
Interpolation = Literal["bilinear", "bicubic"]
# The settings that name one of a few choices: each is checked against its Literal's values.
CHOICES = {"eval_rounding": EvalRounding, "sampling": FrameSampling, "eval_resize_mode": EvalResizeMode,
           "interpolation": Interpolation, "view_pooling": ViewPooling}


@dataclass(frozen=True)
class ClipSpec:
    """One clip, for training, evaluation and testing.

    ``num_frames`` frames spread evenly over ``clip_duration`` seconds, first and last included.
    Training scales the short side to a random size in [``min_scale``, ``max_scale``], takes a
    random ``crop_size`` square and flips with ``hflip_prob``; evaluation scales the short side to
    ``eval_resize`` and takes the centre ``crop_size`` square. Pixels are scaled to [0, 1], then
    ``(x - mean) / std`` (mean 0.5, std 0.5 gives [-1, 1]). Testing scores ``test_clips``
    uniformly spaced clips times ``test_crops`` crops along the long side (the published Kinetics
    protocol is 10 × 3; 1 × 1 is the fast single centre view) and pools their class probabilities
    (softmax, or sigmoid for a multi-label task) by ``view_pooling``: ``mean``, or ``max`` (a class
    seen in any view counts: PySlowFast's Charades protocol). ``eval_rounding``
    names the library whose evaluation resize and crop a clip follows to the pixel (:data:`ROUNDING_RULES`).
    ``eval_resize_mode`` "square" resizes the whole frame to ``eval_resize`` × ``eval_resize`` instead,
    aspect not kept, before the centre crop (none when ``crop_size`` equals ``eval_resize``; several
    test crops then all show the whole frame); training keeps its short-side scales and random crop.
    ``interpolation`` is the filter of every resize, training's and evaluation's.

    ``sampling`` "segment" is TSN's instead (Wang et al. 2016; the Something-Something recipes of
    TSM and VideoMAE): the whole video (or its labelled span) is cut into ``num_frames`` equal
    parts and one frame is taken from each, at random in training and at the centre in
    evaluation (with ``test_clips`` > 1, the views take evenly spaced offsets within the parts);
    ``clip_duration`` is then unused. Suited to short clips whose whole extent is the action.

    Two augmentations of training clips, off by default (evaluation clips never get them), as the
    VideoMAE fine-tuning recipes use them: RandAugment, ``randaug_ops`` operations a clip (0: off),
    drawn once per clip and applied alike to every frame, each at ``randaug_magnitude`` on the
    papers' 0-10 scale (VideoMAE's ``rand-m7-n4`` is 4 operations at magnitude 7), on the decoded
    frames before the crop; and random erasing: with probability ``erase_prob``, one box (2-33 % of
    the frame) through all frames, filled with standard normal noise after normalisation.
    """

    num_frames: int = 8
    clip_duration: float = 2.0
    crop_size: int = 224
    min_scale: int = 256
    max_scale: int = 320
    hflip_prob: float = 0.5
    eval_resize: int = 256
    mean: tuple[float, ...] = KINETICS_MEAN
    std: tuple[float, ...] = KINETICS_STD
    test_clips: int = 1
    test_crops: int = 1
    randaug_ops: int = 0
    randaug_magnitude: int = 7
    erase_prob: float = 0.0
    eval_rounding: EvalRounding = "torchvision"
    sampling: FrameSampling = "dense"
    eval_resize_mode: EvalResizeMode = "short_side"
    interpolation: Interpolation = "bilinear"
    view_pooling: ViewPooling = "mean"

    def __post_init__(self) -> None:
        # YAML and JSON give lists: store tuples, so equal specs compare equal and stay hashable
        object.__setattr__(self, "mean", tuple(float(v) for v in self.mean))
        object.__setattr__(self, "std", tuple(float(v) for v in self.std))
        problems = [f"{name} must be positive" for name in ("num_frames", "clip_duration", "crop_size", "eval_resize",
                                                            "test_clips", "test_crops") if not getattr(self, name) > 0]
        if self.min_scale < self.crop_size:
            problems.append(f"min_scale {self.min_scale} is below crop_size {self.crop_size}: the training crop would not fit")
        if self.max_scale < self.min_scale:
            problems.append(f"max_scale {self.max_scale} is below min_scale {self.min_scale}")
        if self.eval_resize < self.crop_size:
            problems.append(f"eval_resize {self.eval_resize} is below crop_size {self.crop_size}: the eval crop would not fit")
        if not 0 <= self.hflip_prob <= 1:
            problems.append(f"hflip_prob {self.hflip_prob} is not a probability")
        if not 0 <= self.erase_prob <= 1:
            problems.append(f"erase_prob {self.erase_prob} is not a probability")
        if self.randaug_ops < 0:
            problems.append(f"randaug_ops {self.randaug_ops} is negative")
        if not 0 <= self.randaug_magnitude <= 10:
            problems.append(f"randaug_magnitude {self.randaug_magnitude} is outside RandAugment's 0-10")
        if len(self.mean) != 3 or len(self.std) != 3 or not all(s > 0 for s in self.std):
            problems.append("mean and std need three values each, std positive")
        for name, choices in CHOICES.items():
            if getattr(self, name) not in get_args(choices):
                problems.append(f"{name} {getattr(self, name)!r} is not one of {', '.join(get_args(choices))}")
        if problems:
            raise VidclsError(f"clip settings: {'; '.join(problems)}")

    @classmethod
    def at_sampling_rate(cls, num_frames: int, sampling_rate: int, fps: float = SOURCE_FPS, **settings: Any) -> ClipSpec:
        """A clip given as papers give it: ``num_frames`` frames, one every ``sampling_rate`` frames of a ``fps`` video."""
        return cls(num_frames=num_frames, clip_duration=num_frames * sampling_rate / fps, **settings)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ClipSpec:
        """A spec from stored values (a checkpoint's); unknown keys are an error, missing ones take the defaults."""
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise VidclsError(f"clip settings: unknown {', '.join(unknown)}; known: {', '.join(cls.field_names())}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists, numbers) for checkpoints, JSON and YAML."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    def with_given(self, given: Mapping[str, Any]) -> ClipSpec:
        """This spec with every value the user gave (not ``None``) in its place: the user's value always wins."""
        return replace(self, **{key: value for key, value in given.items() if value is not None})

    def pool_views(self, scores: torch.Tensor, dim: int) -> torch.Tensor:
        """A video's class probabilities from its views' (along ``dim``), pooled by ``view_pooling``."""
        return scores.amax(dim) if self.view_pooling == "max" else scores.mean(dim)

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """One evaluation clip as the network takes it: ``C×T×H×W``."""
        return (3, self.num_frames, self.crop_size, self.crop_size)

    def eval_preprocessing(self) -> dict[str, Any]:
        """How to rebuild an evaluation clip without vidcls (the export sidecar's words)."""
        return {
            **({"clip_duration": self.clip_duration} if self.sampling == "dense" else {}),  # segments span the video
            "num_frames": self.num_frames,
            "frame_times": "num_frames evenly spaced over clip_duration seconds, first and last frame included"
            if self.sampling == "dense" else "the video cut into num_frames equal parts, the centre frame of each",
            **({"resize_short_side": self.eval_resize, "resize_long_side": ROUNDING_RULES[self.eval_rounding]["long"]}
               if self.eval_resize_mode == "short_side" else
               {"resize_square": self.eval_resize, "aspect_ratio": "not kept: the whole frame becomes the square"}),
            "interpolation": f"{self.interpolation}, antialiased (torchvision's resize of uint8 frames)",
            "center_crop": self.crop_size,
            "crop_offset": f"{ROUNDING_RULES[self.eval_rounding]['offset']}, position 0.5 (as {self.eval_rounding})",
            "scale": "uint8 / 255",
            "mean": list(self.mean),
            "std": list(self.std),
        }


# The sizes of a clip, in pixels: a preset's are made for its crop, so untyped ones follow a typed one together.
SIZES = ("crop_size", "min_scale", "max_scale", "eval_resize")


def resolve_clip(preset: ClipSpec | None, given: Mapping[str, Any]) -> ClipSpec:
    """The clip a run uses: the user's ``given`` values over ``preset`` (a model's or a checkpoint's) over the defaults.

    A typed size that makes the preset's untyped sizes impossible (``--data.crop_size 224`` for
    X3D-S, whose scales were made for a 160 crop) takes those untyped sizes along in the preset's
    proportion: X3D-S at crop 224 trains on a 255-319 short side and evaluates at 255. The crop, the
    network's input, follows only when the scales alone cannot hold it (r3d_18 with ``min_scale``
    160 keeps its 112 crop). A typed value is never changed; typed values that cannot work together
    are one line naming them.
    """
    base = preset or ClipSpec()
    typed = {key: value for key, value in given.items() if value is not None}
    try:
        return base.with_given(typed)
    except VidclsError:
        typed_sizes = [key for key in SIZES if key in typed]
        untyped_sizes = [key for key in SIZES if key not in typed]
        if not typed_sizes or not untyped_sizes:
            raise _conflict(typed) from None
    anchor = typed_sizes[0]  # the crop when typed: the other sizes are made for it
    ratio = typed[anchor] / getattr(base, anchor)
    # the crop is the network's input: it follows only when the scales alone cannot make room for it
    for following in ([key for key in untyped_sizes if key != "crop_size"], untyped_sizes):
        scaled = {key: max(1, round(getattr(base, key) * ratio)) for key in following}
        try:
            return base.with_given({**scaled, **typed})
        except VidclsError:
            continue
    raise _conflict(typed)


def _conflict(typed: Mapping[str, Any]) -> VidclsError:
    """One line naming the typed values that cannot work together, and why."""
    named = ", ".join(f"{key} {value}" for key, value in typed.items())
    try:
        ClipSpec().with_given(typed)
    except VidclsError as error:
        return VidclsError(f"{error} (given: {named})")
    return VidclsError(f"clip settings: the values given ({named}) do not fit the model's clip together")


def resized_size(height: int, width: int, short_side: int, rounding: EvalRounding,
                 mode: EvalResizeMode = "short_side") -> tuple[int, int]:
    """A ``height×width`` frame's size after scaling its short side to ``short_side``, rounded as ``rounding`` does
    (``mode`` "square": ``short_side`` × ``short_side``, whatever the frame)."""
    if mode == "square":
        return short_side, short_side
    short, long = sorted((height, width))
    if rounding == "pytorchvideo":
        new_long = int(math.floor(float(long) / short * short_side))
    else:
        new_long = int(short_side * long / short)
    return (new_long, short_side) if height > width else (short_side, new_long)


def crop_offset(margin: int, position: float, rounding: EvalRounding) -> int:
    """Where a crop starts along a side ``margin`` pixels longer than it: ``position`` 0 first, 0.5 centre, 1 last."""
    offset = margin * position
    if rounding == "pytorchvideo":
        return int(math.ceil(offset))
    return int(math.floor(offset)) if rounding == "transformers" else int(round(offset))
