"""Building a transformers video classifier for the user's classes: from a checkpoint or from its configuration.

A checkpoint is a Hub id or a folder written by ``save_pretrained`` (safetensors where the files
have them, ``.bin`` files only with ``weights_only=True``, never remote code); without one, the
configuration (``--model.model_options``: sizes, frames, patch and tubelet) gives random weights.
The head always fits the user's classes, with ``id2label``/``label2id`` set to their names.
vidcls keeps clips ``B×C×T×H×W``; :class:`HubVideoClassifier` hands the family's model the
``B×T×C×H×W`` pixel values it takes and returns its ``B×classes`` logits (VideoPrism's, ``B×1×classes``
from its attention-pooling head's one query, squeezed).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torchvision.ops import stochastic_depth

from vidcls.errors import VidclsError, first_line
from vidcls.io import load_safely
from vidcls.models.pretrained import class_order, reorder_rows
from vidcls.models.registry import HubFamily, list_models, model_entry

try:
    import transformers
except ImportError as error:  # the CLI prints this as one line
    raise VidclsError("the Hugging Face models need transformers: pip install 'vidcls[hf]'") from error


# The families (their HubFamily: classes, config keys, modules, sampling rate) are the catalog's cards.
FAMILIES: dict[str, HubFamily] = {name: card.hub for name in list_models() if (card := model_entry(name)).hub}


class HubVideoClassifier(nn.Module):
    """A transformers video classifier taking vidcls's ``B×C×T×H×W`` clips; ``model`` is the transformers model."""

    def __init__(self, model: transformers.PreTrainedModel):
        super().__init__()
        self.model = model

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        logits = self.model(**{self.model.main_input_name: clips.transpose(1, 2)}).logits
        return logits.squeeze(1) if logits.ndim == 3 and logits.shape[1] == 1 else logits

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
        checkpoint_labels = checkpoint_config(family_name, pretrained).id2label
        published = [checkpoint_labels.get(i) for i in range(len(checkpoint_labels))]
        order = class_order(published, labels)  # its head names these classes: kept, its rows in the data's order
        model = _hub_call(pretrained, lambda: model_class.from_pretrained(
            pretrained, ignore_mismatched_sizes=order is None, **({} if order is not None else label_config),
            **config_options))
        if order is not None:
            model.classifier.load_state_dict(reorder_rows(model.classifier.state_dict(), order))
            model.config.update(label_config)
        elif published[:num_classes] != labels:
            _reset_classifier(model)  # same class count, other classes: the checkpoint's head means nothing here
    else:
        model_config = getattr(transformers, family.config).from_dict({**(config or {}), **config_options, **label_config})
        model = model_class(model_config)
    if family.unused:
        model.get_submodule(family.unused).requires_grad_(False)  # e.g. V-JEPA 2's pre-training predictor
    if drop_path_rate and not family.drop_path_in_config:
        _add_drop_path(blocks(model, family), drop_path_rate)
    if gradient_checkpointing:
        model.activation_checkpointing_enable()
    return HubVideoClassifier(model).train()  # from_pretrained returns eval mode: Lightning would keep it (no dropout)



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


def blocks(model: transformers.PreTrainedModel, family: HubFamily) -> list[nn.Module]:
    """The family's transformer blocks in depth order (VideoPrism: its spatial blocks, then its temporal ones)."""
    names = (family.blocks,) if isinstance(family.blocks, str) else family.blocks
    return [block for name in names for block in model.get_submodule(name)]


def checkpoint_config(family_name: str, pretrained: str) -> transformers.PretrainedConfig:
    """The checkpoint's config; one of another family (or VideoPrism's video-text model) is one line."""
    config = _hub_call(pretrained, lambda: transformers.AutoConfig.from_pretrained(pretrained))
    expected = getattr(transformers, FAMILIES[family_name].config).model_type
    if config.model_type != expected:
        takes = "" if expected == family_name else f" ({family_name} takes {expected} checkpoints)"
        raise VidclsError(f"pretrained {pretrained!r} is a {config.model_type} checkpoint, not {family_name}{takes}")
    return config


def _reset_classifier(model: transformers.PreTrainedModel) -> None:
    """A fresh head, initialised as transformers initialises a Linear (normal, the config's std; zero bias)."""
    with torch.no_grad():
        model.classifier.weight.normal_(0.0, model.config.initializer_range)
        model.classifier.bias.zero_()


def _add_drop_path(stack: Sequence[nn.Module], rate: float) -> None:
    """Stochastic depth for families whose transformers code has none: each block's residual update is dropped per clip.

    A forward hook keeps the modules (and so the checkpoint keys and ``save_pretrained``) unchanged.
    """
    for index, block in enumerate(stack):
        block_rate = rate * index / max(len(stack) - 1, 1)
        if block_rate > 0:
            block.register_forward_hook(functools.partial(_drop_update, block_rate), with_kwargs=True)


def _drop_update(rate: float, block: nn.Module, args: tuple, kwargs: dict, output: Any) -> Any:
    hidden = args[0] if args else kwargs["hidden_states"]
    new = output[0] if isinstance(output, tuple) else output  # TimeSformer's blocks return (hidden_states, ...)
    dropped = hidden + stochastic_depth(new - hidden, rate, "row", block.training)
    return (dropped, *output[1:]) if isinstance(output, tuple) else dropped


def published_classes(model: str, pretrained: str | None) -> list[str] | None:
    """The classes of a Hub checkpoint's head, in head order (its config's ``id2label``); None without a checkpoint."""
    if not pretrained:
        return None
    labels = checkpoint_config(model, pretrained).id2label
    return [labels[i] for i in range(len(labels))]
