"""A checkpoint's clip from its processor config, and the processor that prepares frames as a clip does.

The clip contract comes from the checkpoint itself: frames from its config, resize, crop, rescale
and mean/std from its processor config; crops round as transformers' processors do (the floor).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import transformers

from vidcls.clip import ClipSpec
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
    """The family's processor at ``size``: its default resize kept in proportion to its default crop."""
    processor_class = getattr(transformers, family.processor)
    default = processor_class()
    crop, short_side = default.crop_size["height"], default.size["shortest_edge"]
    return processor_class(crop_size={"height": size, "width": size}, size={"shortest_edge": int(size * short_side / crop)})


def clip_from_processor(processor, frames: int, family: HubFamily, model: str) -> ClipSpec:
    """A processor's evaluation preprocessing as a ClipSpec: short-side resize, centre crop, ``(x / 255 - mean) / std``.

    The processor computes ``(x * r + offset - m) / s`` on uint8 ``x``; with ``S = s / (255 r)`` and
    ``M = (m - offset) / (255 r)`` that is ``(x / 255 - M) / S``. (ViViT, offset -1, rescale
    1/127.5 and its mean/std 0.5: mean 0.75, std 0.25.)
    """
    crop, resize = processor.crop_size, processor.size
    if not processor.do_center_crop or crop.get("height") != crop.get("width") or not resize.get("shortest_edge"):
        raise VidclsError(f"{model}: its processor does not resize the short side and crop a square centre: "
                          "give the clip as --data.* settings")
    r = processor.rescale_factor if processor.do_rescale else 1.0
    offset = family.rescale_offset if processor.do_rescale else 0.0
    m, s = (processor.image_mean, processor.image_std) if processor.do_normalize else ((0.0,) * 3, (1.0,) * 3)
    std = tuple(value / (255 * r) for value in s)
    mean = tuple((value - offset) / (255 * r) for value in m)
    crop_size, eval_resize = crop["height"], resize["shortest_edge"]
    defaults = ClipSpec()
    return ClipSpec.at_sampling_rate(
        frames, family.sampling_rate, crop_size=crop_size, eval_resize=eval_resize,
        min_scale=max(round(crop_size * defaults.min_scale / defaults.crop_size), eval_resize),
        max_scale=max(round(crop_size * defaults.max_scale / defaults.crop_size), eval_resize), mean=mean, std=std,
        eval_rounding="transformers",
    )


def processor_for(model: str, clip: ClipSpec):
    """The family's video processor that prepares frames as ``clip``'s evaluation does (the inverse of the above)."""
    family = FAMILIES[model]
    processor_class = getattr(transformers, family.processor)
    r = processor_class.rescale_factor
    return processor_class(
        size={"shortest_edge": clip.eval_resize}, crop_size={"height": clip.crop_size, "width": clip.crop_size},
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
