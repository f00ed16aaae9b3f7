"""Hugging Face video transformers as vidcls networks: VideoMAE, V-JEPA 2, TimeSformer and ViViT.

The only module that imports ``transformers`` (the ``vidcls[hf]`` extra). A network is built from
a checkpoint (a Hub id or a folder written by ``save_pretrained``: safetensors where the files have
them, ``.bin`` files only with ``weights_only=True``, never remote code) or, without one, from its
configuration (``--model.model_options``: sizes, frames, patch and tubelet) with random weights.
The head always fits the user's classes, with ``id2label``/``label2id`` set to their names.

vidcls keeps clips ``B×C×T×H×W``; :class:`HubVideoClassifier` hands the family's model the
``B×T×C×H×W`` pixel values it takes and returns its logits. The clip contract
(:func:`clip_preset`) comes from the checkpoint itself: frames from its config, resize, crop,
rescale and mean/std from its processor config.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torchvision.ops import stochastic_depth

from vidcls.clip import ClipSpec
from vidcls.errors import VidclsError, first_line
from vidcls.io import load_safely

try:
    import transformers
except ImportError as error:  # the CLI prints this as one line
    raise VidclsError("the Hugging Face models need transformers: pip install 'vidcls[hf]'") from error


@dataclass(frozen=True)
class Family:
    """What vidcls needs to know about one transformers video classifier (class names, not classes: imported on use)."""

    config: str
    model: str
    processor: str
    frames_key: str  # the config field holding the frames per clip
    size_key: str  # the config field holding the (square) input size
    blocks: str  # the transformer blocks' ModuleList (layer-wise lr decay, drop path)
    embeddings: str  # patch and position embeddings: the lowest "layer" of layer-wise decay
    sampling_rate: int  # frames of a 30 fps video per sampled frame, in the family's published Kinetics recipe
    rescale_offset: float = 0.0  # added after rescaling: ViViT's processor maps uint8 to [-1, 1] (x / 127.5 - 1)
    drop_path_in_config: bool = False  # the config has drop_path_rate; else vidcls adds stochastic depth


# Sampling rates: VideoMAE's Kinetics fine-tuning scripts (--num_frames 16 --sampling_rate 4); TimeSformer's
# TimeSformer_divST_8x32_224.yaml (8 frames, SAMPLING_RATE 32); ViViT's Kinetics configs (scenic, 32 frames,
# stride 2); V-JEPA's Kinetics evaluation (vitl16_k400_16x8x3.yaml: 16 frames, frame_step 4).
FAMILIES = {
    "videomae": Family("VideoMAEConfig", "VideoMAEForVideoClassification", "VideoMAEVideoProcessor", "num_frames",
                       "image_size", "videomae.encoder.layer", "videomae.embeddings", sampling_rate=4),
    "vjepa2": Family("VJEPA2Config", "VJEPA2ForVideoClassification", "VJEPA2VideoProcessor", "frames_per_clip",
                     "crop_size", "vjepa2.encoder.layer", "vjepa2.encoder.embeddings", sampling_rate=4,
                     drop_path_in_config=True),
    # (TimesformerConfig has drop_path_rate, typed int: a rate like 0.1 fails its validation, so vidcls adds its own)
    "timesformer": Family("TimesformerConfig", "TimesformerForVideoClassification", "TimesformerVideoProcessor",
                          "num_frames", "image_size", "timesformer.encoder.layer", "timesformer.embeddings",
                          sampling_rate=32),
    "vivit": Family("VivitConfig", "VivitForVideoClassification", "VivitVideoProcessor", "num_frames", "image_size",
                    "vivit.layers", "vivit.embeddings", sampling_rate=2, rescale_offset=-1.0),
}


class HubVideoClassifier(nn.Module):
    """A transformers video classifier taking vidcls's ``B×C×T×H×W`` clips; ``model`` is the transformers model."""

    def __init__(self, model: transformers.PreTrainedModel):
        super().__init__()
        self.model = model

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.model(**{self.model.main_input_name: clips.transpose(1, 2)}).logits

    def network_config(self) -> dict[str, Any]:
        """The configuration that rebuilds this network without the checkpoint's files (stored in vidcls checkpoints)."""
        return self.model.config.to_diff_dict()


def build(
    family_name: str,
    num_classes: int,
    *,
    classes: Sequence[str] | None = None,
    pretrained: str | None = None,
    config: Mapping[str, Any] | None = None,
    drop_path_rate: float | None = None,
    gradient_checkpointing: bool = False,
    **config_options: Any,
) -> HubVideoClassifier:
    """A ``family_name`` classifier for ``classes``, from ``pretrained`` or from ``config`` updated by ``config_options``.

    ``drop_path_rate``: stochastic depth, rising linearly over the blocks to this rate (timm's and
    the papers' rule). ``gradient_checkpointing``: recompute each block's activations in the
    backward pass, for less memory at about a third more compute.
    """
    family = FAMILIES[family_name]
    labels = list(classes) if classes else [f"class_{i}" for i in range(num_classes)]
    if len(labels) != num_classes:
        raise ValueError(f"{len(labels)} class names for {num_classes} classes")
    label_config = {"id2label": dict(enumerate(labels)), "label2id": {label: i for i, label in enumerate(labels)}}
    if family.drop_path_in_config and drop_path_rate is not None:
        config_options["drop_path_rate"] = drop_path_rate
    model_class = getattr(transformers, family.model)
    if pretrained:
        checkpoint_labels = _checkpoint_config(family_name, pretrained).id2label
        model = _hub_call(pretrained, lambda: model_class.from_pretrained(
            pretrained, ignore_mismatched_sizes=True, **label_config, **config_options))
        if [checkpoint_labels.get(i) for i in range(num_classes)] != labels:
            _reset_classifier(model)  # same class count, other classes: the checkpoint's head means nothing here
    else:
        model_config = getattr(transformers, family.config).from_dict({**(config or {}), **config_options, **label_config})
        model = model_class(model_config)
    if family_name == "vjepa2":
        model.vjepa2.predictor.requires_grad_(False)  # its pre-training predictor: unused by classification
    if drop_path_rate and not family.drop_path_in_config:
        _add_drop_path(model.get_submodule(family.blocks), drop_path_rate)
    if gradient_checkpointing:
        model.activation_checkpointing_enable()
    return HubVideoClassifier(model).train()  # from_pretrained returns eval mode: Lightning would keep it (no dropout)


videomae = functools.partial(build, "videomae")
vjepa2 = functools.partial(build, "vjepa2")
timesformer = functools.partial(build, "timesformer")
vivit = functools.partial(build, "vivit")


def _hub_call(pretrained: str, load: Callable[[], Any]) -> Any:
    """``load()``; a missing folder, an unreachable Hub or unsafe weights (never unpickled) said in one line.

    A Hub id is first asked about once, without retries: when no answer comes (no network, a refused
    connection, ``HF_HUB_OFFLINE``), huggingface_hub would retry each file for about 25 s (waits of
    1, 2, 4, 8 and 8 s) before failing. Then an id not in the local cache fails at once, and a cached
    one loads from the cache, with the process in huggingface_hub's offline mode (as ``HF_HUB_OFFLINE=1``
    would set it), so its optional files are not retried either.
    """
    import huggingface_hub

    where = f"pretrained {pretrained!r}"
    if not Path(pretrained).is_dir():
        where += " (no such folder; as a Hub id it could not be fetched)"
        try:
            huggingface_hub.utils.validate_repo_id(pretrained)
            huggingface_hub.get_hf_file_metadata(huggingface_hub.hf_hub_url(pretrained, "config.json"))
        except (ValueError, huggingface_hub.errors.HfHubHTTPError):
            pass  # not an id, or the Hub answered (no such repository, gated...): load() says so
        except Exception as error:  # no answer: retrying would not bring one
            if not isinstance(huggingface_hub.try_to_load_from_cache(pretrained, "config.json"), str):
                raise VidclsError(f"{where}: the Hub is unreachable and the id is not in the local cache "
                                  f"({first_line(error)})") from error
            huggingface_hub.constants.HF_HUB_OFFLINE = True
    return load_safely(load, where)


def _checkpoint_config(family_name: str, pretrained: str) -> transformers.PretrainedConfig:
    config = _hub_call(pretrained, lambda: transformers.AutoConfig.from_pretrained(pretrained))
    if config.model_type != family_name:
        raise VidclsError(f"pretrained {pretrained!r} is a {config.model_type} checkpoint, not {family_name}")
    return config


def _reset_classifier(model: transformers.PreTrainedModel) -> None:
    """A fresh head, initialised as transformers initialises a Linear (normal, the config's std; zero bias)."""
    with torch.no_grad():
        model.classifier.weight.normal_(0.0, model.config.initializer_range)
        model.classifier.bias.zero_()


def _add_drop_path(blocks: nn.ModuleList, rate: float) -> None:
    """Stochastic depth for families whose transformers code has none: each block's residual update is dropped per clip.

    A forward hook keeps the modules (and so the checkpoint keys and ``save_pretrained``) unchanged.
    """
    for index, block in enumerate(blocks):
        block_rate = rate * index / max(len(blocks) - 1, 1)
        if block_rate > 0:
            block.register_forward_hook(functools.partial(_drop_update, block_rate), with_kwargs=True)


def _drop_update(rate: float, block: nn.Module, args: tuple, kwargs: dict, output: Any) -> Any:
    hidden = args[0] if args else kwargs["hidden_states"]
    new = output[0] if isinstance(output, tuple) else output  # TimeSformer's blocks return (hidden_states, ...)
    dropped = hidden + stochastic_depth(new - hidden, rate, "row", block.training)
    return (dropped, *output[1:]) if isinstance(output, tuple) else dropped


def clip_preset(model: str, pretrained: str | None, options: Mapping[str, Any]) -> ClipSpec:
    """The clip a checkpoint wants: frames from its config, resize, crop and statistics from its processor config.

    Without a checkpoint: the configuration (``options``) and the family's processor defaults, at
    the configured input size. Training scales the short side over the ratio of vidcls's defaults
    (256-320 for a 224 crop): the processors describe evaluation only.
    """
    family = FAMILIES[model]
    options = {key: value for key, value in options.items() if key not in ("drop_path_rate", "gradient_checkpointing")}
    if pretrained:
        config = _checkpoint_config(model, pretrained)
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


def _processor(family: Family, pretrained: str):
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


def _default_processor(family: Family, size: int):
    """The family's processor at ``size``: its default resize kept in proportion to its default crop."""
    processor_class = getattr(transformers, family.processor)
    default = processor_class()
    crop, short_side = default.crop_size["height"], default.size["shortest_edge"]
    return processor_class(crop_size={"height": size, "width": size}, size={"shortest_edge": int(size * short_side / crop)})


def clip_from_processor(processor, frames: int, family: Family, model: str) -> ClipSpec:
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


def layer_decay_groups(network: nn.Module, model: str, *, lr: float, weight_decay: float, decay: float) -> list[dict]:
    """Optimiser parameter groups with layer-wise learning-rate decay (BEiT's, as VideoMAE fine-tunes).

    Block ``i`` of ``L`` learns at ``lr * decay ** (L - i)``; the embeddings at ``decay ** (L + 1)``;
    the head (norm, pooler, classifier) at ``lr``. Biases, norms and position/class tokens get no
    weight decay (VideoMAE's ``optim_factory``).
    """
    if model not in FAMILIES or not isinstance(network, HubVideoClassifier):
        raise VidclsError(f"--model.layer_decay is for the transformer families ({', '.join(FAMILIES)}), not {model}")
    family = FAMILIES[model]
    depth = len(network.model.get_submodule(family.blocks))
    block = re.compile(re.escape(f"model.{family.blocks}.") + r"(\d+)\.")
    groups: dict[tuple[int, bool], dict] = {}
    for name, parameter in network.named_parameters():
        if not parameter.requires_grad:
            continue
        if name.startswith(f"model.{family.embeddings}."):
            layer = 0
        elif match := block.match(name):
            layer = int(match.group(1)) + 1
        else:
            layer = depth + 1
        decays = parameter.ndim > 1 and not name.endswith(("cls_token", "position_embeddings", "time_embeddings"))
        group = groups.setdefault((layer, decays), {
            "params": [], "lr": lr * decay ** (depth + 1 - layer), "weight_decay": weight_decay if decays else 0.0,
        })
        group["params"].append(parameter)
    return [groups[key] for key in sorted(groups)]


def save_hub_folder(network: nn.Module, model: str, clip: ClipSpec, folder: Path) -> None:
    """Write ``network`` as transformers' own ``save_pretrained`` folder: config (the user's labels), safetensors, processor.

    The processor config is ``clip``'s evaluation preprocessing; it is read back and must give
    the same clip, or the folder would prepare videos other than training did.
    """
    if model not in FAMILIES or not isinstance(network, HubVideoClassifier):
        raise VidclsError(f"--format huggingface is for the transformer families ({', '.join(FAMILIES)}), not {model}: "
                          "use onnx or torchscript")
    config = network.model.config
    if not hasattr(config, "num_frames"):  # transformers' video-classification pipeline reads it; VJEPA2Config lacks it
        config.num_frames = getattr(config, FAMILIES[model].frames_key)
    network.model.save_pretrained(folder)
    processor_for(model, clip).save_pretrained(folder)
    written = clip_from_processor(transformers.AutoVideoProcessor.from_pretrained(folder), clip.num_frames,
                                  FAMILIES[model], model)
    differs = [name for name in ("eval_resize", "crop_size", "mean", "std")
               if not torch.allclose(torch.tensor(getattr(written, name), dtype=torch.float64),
                                     torch.tensor(getattr(clip, name), dtype=torch.float64))]
    if differs:
        raise VidclsError(f"{folder}: {FAMILIES[model].processor} cannot express this clip's "
                          + ", ".join(f"{name} {getattr(clip, name)} (it would use {getattr(written, name)})" for name in differs))


def load_hub_folder(folder: Path) -> HubVideoClassifier:
    """A ``save_pretrained`` folder loaded back by transformers alone, taking vidcls clips (the export's parity check)."""
    return HubVideoClassifier(transformers.AutoModelForVideoClassification.from_pretrained(folder)).eval()
