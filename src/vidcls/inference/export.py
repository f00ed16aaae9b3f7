"""Export a checkpoint's network to ONNX, TorchScript or the Hugging Face Hub's format, with a parity check against PyTorch.

The network comes from :func:`~vidcls.models.checkpoint.load_network`: no Lightning in the process.

The exported graph takes ``video``: ``B×3×T×H×W`` float clips, already resized, cropped and
normalised, with a dynamic batch axis, and returns ``logits``: ``B×num_classes``. A JSON sidecar
(``FILE.json``) records the classes, the task (how logits become probabilities: a softmax, or a
sigmoid per class for a multi-label network) and the preprocessing, so a deployment can rebuild
the input and read the output without vidcls. The Hub format (the transformer families) is a ``save_pretrained`` folder instead:
config with the user's labels and the task's ``problem_type``, safetensors weights and the processor config of the clip, which
``transformers.pipeline("video-classification", model=FOLDER)`` runs on video files; its parity
check feeds it vidcls's ``B×3×T×H×W`` clips through the same permutation as training. Parity: the exported file is loaded back and run on random clips at batch sizes
other than the one used to export (so the dynamic axis is exercised); the largest absolute logit
difference against PyTorch must stay under a tolerance.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from vidcls.clip import ClipSpec
from vidcls.errors import VidclsError, first_line
from vidcls.inference.formats import FORMATS, Format
from vidcls.models.checkpoint import load_network
from vidcls.task import Task

Runner = Callable[[torch.Tensor], torch.Tensor]  # the exported file, loaded back: clips → logits

EXPORT_BATCH = 2  # torch.export specialises a batch of 1 into a constant, so export with 2
PARITY_BATCHES = (1, 3)


@dataclass(frozen=True)
class ExportResult:
    output: Path
    sidecar: Path
    input_shape: tuple[int, ...]  # one clip, C×T×H×W
    max_abs_diff: float  # largest |exported − PyTorch| logit over the parity batches


def export_checkpoint(
    checkpoint: str | Path, format: Format, output: str | Path, *, tolerance: float = 1e-3
) -> ExportResult:
    """Write ``output`` and ``output.json``; raise :class:`VidclsError` when parity is worse than ``tolerance``."""
    if format not in FORMATS:
        raise VidclsError(f"unknown export format {format!r}; choose from {', '.join(FORMATS)}")
    if format == "onnx":
        _require_onnx()
    loaded = load_network(checkpoint)
    network, clip = loaded.network, loaded.clip
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(0)
    example = torch.randn(EXPORT_BATCH, *clip.input_shape, generator=generator)
    exporters = {"onnx": _export_onnx, "torchscript": _export_torchscript,
                 "huggingface": functools.partial(_export_huggingface, loaded.model, clip, loaded.task)}
    exported = exporters[format](network, example, output)
    max_abs_diff = 0.0
    for batch in PARITY_BATCHES:
        clips = torch.randn(batch, *clip.input_shape, generator=generator)
        with torch.inference_mode():
            expected = network(clips)
        max_abs_diff = max(max_abs_diff, float((exported(clips) - expected).abs().max()))
    sidecar = output.with_name(output.name + ".json")
    sidecar.write_text(json.dumps(_describe(format, loaded.model, loaded.classes, clip, loaded.task), indent=2) + "\n")
    if not max_abs_diff <= tolerance:  # also catches NaN
        raise VidclsError(
            f"{output}: parity check failed: max abs logit difference {max_abs_diff:.3g} > tolerance {tolerance:g}"
        )
    return ExportResult(output, sidecar, clip.input_shape, max_abs_diff)


def _require_onnx() -> None:
    missing = [name for name in ("onnx", "onnxscript", "onnxruntime") if importlib.util.find_spec(name) is None]
    if missing:
        raise VidclsError(f"ONNX export needs {', '.join(missing)}: pip install 'vidcls[export]'")


def _export_onnx(network: nn.Module, example: torch.Tensor, output: Path) -> Runner:
    import onnxruntime

    # the torch.export-based exporter (the TorchScript-based one is deprecated); one self-contained file
    torch.onnx.export(
        network,
        (example,),
        str(output),
        input_names=["video"],
        output_names=["logits"],
        dynamic_shapes=({0: torch.export.Dim("batch")},),
        external_data=False,
        dynamo=True,
        verbose=False,
    )
    session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    return lambda clips: torch.from_numpy(session.run(["logits"], {"video": clips.numpy()})[0])


def _export_torchscript(network: nn.Module, example: torch.Tensor, output: Path) -> Runner:
    # TorchScript is deprecated in torch 2.14 (FutureWarning) but is still what C++ libtorch and
    # many serving stacks load; torch.export's .pt2 files need torch itself to run.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            torch.jit.save(torch.jit.trace(network, example), str(output))
        except RuntimeError as error:  # e.g. PyTorchVideo's X3D: its Swish is a Python autograd.Function
            output.unlink(missing_ok=True)
            raise VidclsError(f"{output}: TorchScript cannot hold this network ({first_line(error)}); try onnx") from error
        loaded = torch.jit.load(str(output), map_location="cpu")

    def run(clips: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return loaded(clips)

    return run


def _export_huggingface(model_name: str, clip: ClipSpec, task: Task, network: nn.Module, example: torch.Tensor,
                        output: Path) -> Runner:
    from vidcls.models.hf import load_hub_folder, save_hub_folder  # imports transformers: the vidcls[hf] extra

    save_hub_folder(network, model_name, clip, output, task)
    loaded = load_hub_folder(output)

    def run(clips: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return loaded(clips)

    return run


def _describe(format: Format, model_name: str, classes: list[str], clip: ClipSpec, task: Task) -> dict:
    """What a deployment needs to feed the exported network and read its output."""
    channels, frames, height, width = clip.input_shape
    video = {"name": "video", "shape": ["batch", channels, frames, height, width], "dtype": "float32",
             "layout": "batch, RGB channel, time, height, width"}
    return {
        "format": format,
        "model": model_name,
        "classes": classes,
        "task": task,
        # the Hub folder's model takes its own pixel values (batch, time, channel, ...), made by its processor config
        "input": video if format != "huggingface" else "what the folder's video processor config makes of the frames",
        "output": {"name": "logits", "shape": ["batch", len(classes)],
                   "probabilities": "sigmoid of each logit" if task == "multilabel" else "softmax over the classes"},
        "preprocessing": clip.eval_preprocessing(),
        "clip": clip.to_dict(),
    }
