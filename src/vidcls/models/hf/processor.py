"""A checkpoint's clip from its processor config, and the processor that prepares frames as a clip does.

The clip contract comes from the checkpoint itself: frames from its config, resize (of the short
side, or of the whole frame to a square), its filter, crop, rescale and mean/std from its processor
config; crops round as transformers' processors do (the floor).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

import transformers

from vidcls.clip import ClipSpec, Interpolation
from vidcls.errors import VidclsError, first_line
from vidcls.models.hf.network import FAMILIES, HubFamily, checkpoint_config


def clip_preset(model: str, pretrained: str | None, options: Mapping[str, Any]) -> ClipSpec:
    """The clip a checkpoint wants: frames from its config, resize, crop and statistics from its processor config.

    Without a checkpoint: the configuration (``options``) and the family's processor defaults, at
    the configured input size. Training scales the short side over the ratio of vidcls's defaults
    (256-320 for a 224 crop): the processors describe evaluation only.
    """
    family = FAMILIES[model]
    options = {key: value for key, value in options.items() if key not in ("drop_path_rate", "gradient_checkpointing")}
    if pretrained:
        config = checkpoint_config(model, pretrained)
        for key, value in options.items():
            setattr(config, key, value)  # the user's options win, as from_pretrained applies them
        processor = _processor(family, pretrained)
    else:
        config = getattr(transformers, family.config).from_dict(options)
        processor = None
    frames, size = getattr(config, family.frames_key), _square(getattr(config, family.size_key), model)
    if processor is None:
        processor = _default_processor(family, size)
    return clip_from_processor(processor, frames, family, model)


# PIL's resampling numbers, as processor configs give them ("resample": 3)
PIL_FILTERS = {2: "bilinear", 3: "bicubic"}
# the files a checkpoint's processor config is in (video processors; image processors, as VideoMAE's published ones)
PROCESSOR_FILES = ("video_preprocessor_config.json", "preprocessor_config.json")


def _processor(family: HubFamily, pretrained: str):
    """The checkpoint's video processor, or None when it has no processor config (then the family's defaults apply).

    A processor config that is there but cannot be read is an error: the family's defaults would
    silently give other resize, crop or statistics than the checkpoint was trained with.
    """
    folder = Path(pretrained).expanduser()
    if folder.is_dir() and not any((folder / name).is_file() for name in PROCESSOR_FILES):
        return None
    try:
        return transformers.AutoVideoProcessor.from_pretrained(pretrained)
    except (OSError, ValueError) as error:
        reason = first_line(error)
        if not folder.is_dir() and "does not appear to have a file named" in reason:  # a Hub checkpoint without one
            return None
        raise VidclsError(f"{pretrained}: its processor config cannot be read ({reason})") from error


def _default_processor(family: HubFamily, size: int):
    """The family's processor at ``size``: its default resize kept in proportion to its default crop (a square
    resize, VideoPrism's, is to ``size`` itself)."""
    processor_class = getattr(transformers, family.processor)
    default = processor_class()
    if not default.size.get("shortest_edge"):
        return processor_class(size={"height": size, "width": size})
    crop, short_side = default.crop_size["height"], default.size["shortest_edge"]
    return processor_class(crop_size={"height": size, "width": size}, size={"shortest_edge": int(size * short_side / crop)})


def clip_from_processor(processor, frames: int, family: HubFamily, model: str) -> ClipSpec:
    """A processor's evaluation preprocessing as a ClipSpec: short-side resize and centre crop (or a resize of the whole
    frame to a square, its centre cropped if the processor crops: LLaVA-OneVision's, which VideoPrism uses), its
    filter, ``(x / 255 - mean) / std``.

    The processor computes ``(x * r + offset - m) / s`` on uint8 ``x``; with ``S = s / (255 r)`` and
    ``M = (m - offset) / (255 r)`` that is ``(x / 255 - M) / S``. (ViViT, offset -1, rescale
    1/127.5 and its mean/std 0.5: mean 0.75, std 0.25.)
    """
    crop, resize = processor.crop_size, processor.size
    square = bool(resize.get("height")) and resize.get("height") == resize.get("width")
    crops = bool(processor.do_center_crop)
    if not (square or crops and resize.get("shortest_edge")) or crops and crop.get("height") != crop.get("width"):
        raise VidclsError(f"{model}: its processor neither resizes the short side and crops a square centre nor resizes "
                          "to a square: give the clip as --data.* settings")
    eval_resize = resize["height"] if square else resize["shortest_edge"]
    crop_size = crop["height"] if crops else eval_resize
    r = processor.rescale_factor if processor.do_rescale else 1.0
    offset = family.rescale_offset if processor.do_rescale else 0.0
    m, s = (processor.image_mean, processor.image_std) if processor.do_normalize else ((0.0,) * 3, (1.0,) * 3)
    std = tuple(value / (255 * r) for value in s)
    mean = tuple((value - offset) / (255 * r) for value in m)
    defaults = ClipSpec()
    return ClipSpec.at_sampling_rate(
        frames, family.sampling_rate, crop_size=crop_size, eval_resize=eval_resize,
        min_scale=max(round(crop_size * defaults.min_scale / defaults.crop_size), eval_resize),
        max_scale=max(round(crop_size * defaults.max_scale / defaults.crop_size), eval_resize), mean=mean, std=std,
        eval_rounding="transformers", eval_resize_mode="square" if square else "short_side",
        interpolation=_interpolation(processor.resample, model),
    )


def _interpolation(resample: Any, model: str) -> Interpolation:
    """A processor's ``resample`` (PIL's number or torchvision's mode) as a clip's interpolation."""
    name = resample.value if isinstance(getattr(resample, "value", None), str) else PIL_FILTERS.get(int(resample))
    if name not in get_args(Interpolation):
        raise VidclsError(f"{model}: its processor resamples with {resample!r}; vidcls resizes bilinear or bicubic")
    return name


def processor_for(model: str, clip: ClipSpec):
    """The family's video processor that prepares frames as ``clip``'s evaluation does (the inverse of the above)."""
    family = FAMILIES[model]
    processor_class = getattr(transformers, family.processor)
    r = processor_class.rescale_factor
    square = clip.eval_resize_mode == "square"
    crops = not square or clip.crop_size < clip.eval_resize
    return processor_class(
        size={"height": clip.eval_resize, "width": clip.eval_resize} if square else {"shortest_edge": clip.eval_resize},
        do_center_crop=crops, crop_size={"height": clip.crop_size, "width": clip.crop_size} if crops else None,
        resample={name: number for number, name in PIL_FILTERS.items()}[clip.interpolation],
        do_rescale=True, rescale_factor=r, do_normalize=True,
        image_mean=[255 * r * value + family.rescale_offset for value in clip.mean],
        image_std=[255 * r * value for value in clip.std],
    )


def _square(size: Any, model: str) -> int:
    if isinstance(size, int):
        return size
    if len(set(size)) == 1:
        return int(size[0])
    raise VidclsError(f"{model}: non-square input size {size} is not supported")
