"""Hub-format export: a network written as transformers' own ``save_pretrained`` folder, and read back by it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
import transformers
from torch import nn

from vidcls.clip import ClipSpec
from vidcls.errors import VidclsError
from vidcls.models.hf.network import FAMILIES, HubVideoClassifier
from vidcls.models.hf.processor import clip_from_processor, processor_for
from vidcls.task import HUB_PROBLEM_TYPES, Task


def save_hub_folder(network: nn.Module, model: str, clip: ClipSpec, folder: Path, task: Task = "multiclass") -> None:
    """Write ``network`` as transformers' own ``save_pretrained`` folder: config (the user's labels), safetensors, processor.

    The config's ``problem_type`` is the task's, so transformers' pipelines apply a sigmoid to a
    multi-label network's logits and a softmax to a multiclass one's.

    The processor config is ``clip``'s evaluation preprocessing; it is read back and must give
    the same clip, or the folder would prepare videos other than training did.
    """
    if model not in FAMILIES or not isinstance(network, HubVideoClassifier):
        raise VidclsError(f"--format huggingface is for the transformer families ({', '.join(FAMILIES)}), not {model}: "
                          "use onnx or torchscript")
    config = network.model.config
    if not hasattr(config, "num_frames"):  # transformers' video-classification pipeline reads it; VJEPA2Config lacks it
        config.num_frames = getattr(config, FAMILIES[model].frames_key)
    processor = processor_for(model, clip)
    with tempfile.TemporaryDirectory() as scratch:  # checked before the folder is written: no half export is left
        processor.save_pretrained(scratch)
        written = clip_from_processor(transformers.AutoVideoProcessor.from_pretrained(scratch), clip.num_frames,
                                      FAMILIES[model], model)
    differs = [name for name in ("eval_resize", "crop_size", "mean", "std")
               if not torch.allclose(torch.tensor(getattr(written, name), dtype=torch.float64),
                                     torch.tensor(getattr(clip, name), dtype=torch.float64))]
    differs += [name for name in ("eval_rounding", "eval_resize_mode", "interpolation")
                if getattr(written, name) != getattr(clip, name)]
    if differs:
        raise VidclsError(f"{folder}: {FAMILIES[model].processor} cannot express this clip's "
                          + ", ".join(f"{name} {getattr(clip, name)} (it would use {getattr(written, name)})" for name in differs))
    config.problem_type = HUB_PROBLEM_TYPES[task]
    network.model.save_pretrained(folder)
    processor.save_pretrained(folder)


def load_hub_folder(folder: Path) -> HubVideoClassifier:
    """A ``save_pretrained`` folder loaded back by transformers alone, taking vidcls clips (the export's parity check)."""
    return HubVideoClassifier(transformers.AutoModelForVideoClassification.from_pretrained(folder)).eval()
