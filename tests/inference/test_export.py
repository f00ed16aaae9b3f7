"""`vidcls export`: ONNX and TorchScript files that load back, match PyTorch, and describe their input."""

import importlib.util
import json
import re
import warnings

import pytest
import torch

import vidcls.inference.export
from vidcls.cli import main
from vidcls.errors import VidclsError
from vidcls.inference.export import export_checkpoint
from vidcls.models.checkpoint import load_network


def load_exported(path, format):
    """The exported file as a function clips → logits, loaded without vidcls."""
    if format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return lambda clips: torch.from_numpy(session.run(None, {"video": clips.numpy()})[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated in torch 2.14
        return torch.jit.load(str(path))


@pytest.mark.parametrize("format", ["onnx", "torchscript"])
def test_export_loads_back_and_matches_pytorch_at_any_batch_size(tiny_checkpoint, tmp_path, capsys, format, few_classes):
    output = tmp_path / f"model.{format}"
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--checkpoint", str(tiny_checkpoint), "--format", format, "--output", str(output)])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{output}: {format}, input video B×3×4×32×32; preprocessing and classes in {output}.json\n")
    (difference,) = re.findall(r"parity: max abs logit difference (\S+) against PyTorch", out)
    assert 0 <= float(difference) <= 1e-3  # the default tolerance

    exported = load_exported(output, format)
    loaded = load_network(tiny_checkpoint)
    clip = loaded.clip
    for batch in (1, 3):
        clips = torch.randn(batch, 3, 4, 32, 32)
        with torch.inference_mode():
            assert torch.allclose(exported(clips), loaded.network(clips), atol=1e-4)

    sidecar = json.loads(output.with_name(output.name + ".json").read_text())
    assert sidecar["classes"] == sorted(few_classes) and sidecar["format"] == format and sidecar["model"] == "simple3d"
    assert sidecar["input"]["name"] == "video" and sidecar["input"]["shape"] == ["batch", 3, 4, 32, 32]
    assert sidecar["output"] == {"name": "logits", "shape": ["batch", 4], "probabilities": "softmax over the classes"}
    assert sidecar["task"] == "multiclass"
    assert sidecar["clip"] == clip.to_dict()  # the whole contract, for a deployment that trains on
    preprocessing = sidecar["preprocessing"]
    assert (preprocessing["num_frames"], preprocessing["clip_duration"]) == (4, 2.0)
    assert (preprocessing["resize_short_side"], preprocessing["center_crop"]) == (32, 32)
    assert clip.eval_rounding == "torchvision" and "half to even" in preprocessing["crop_offset"]  # simple3d's rounding
    assert preprocessing["mean"] == [0.45] * 3 and preprocessing["std"] == [0.225] * 3


def test_a_multilabel_export_says_its_probabilities_are_sigmoids(multilabel_checkpoint, tmp_path):
    result = export_checkpoint(multilabel_checkpoint, "torchscript", tmp_path / "tags.pt")
    sidecar = json.loads(result.sidecar.read_text())
    assert sidecar["task"] == "multilabel" and sidecar["output"]["probabilities"] == "sigmoid of each logit"
    assert sidecar["classes"] == ["down", "horizontal", "left", "up", "vertical"]


def test_parity_failure_is_an_error(tiny_checkpoint, tmp_path, monkeypatch):
    export_torchscript = vidcls.inference.export._export_torchscript

    def drifting(*args):
        run = export_torchscript(*args)
        return lambda clips: run(clips) + 0.01

    monkeypatch.setattr(vidcls.inference.export, "_export_torchscript", drifting)
    with pytest.raises(VidclsError, match=r"parity check failed: max abs logit difference 0.01 > tolerance 0.001"):
        export_checkpoint(tiny_checkpoint, "torchscript", tmp_path / "model.pt")


def test_onnx_without_its_extra_says_what_to_install(tiny_checkpoint, tmp_path, monkeypatch):
    find_spec = importlib.util.find_spec
    without_onnxscript = lambda name, *args: None if name == "onnxscript" else find_spec(name, *args)  # noqa: E731
    monkeypatch.setattr(importlib.util, "find_spec", without_onnxscript)
    with pytest.raises(VidclsError, match=r"needs onnxscript: pip install 'vidcls\[export\]'"):
        export_checkpoint(tiny_checkpoint, "onnx", tmp_path / "model.onnx")


def test_bad_tiny_checkpoint_is_one_line_on_stderr(tmp_path, capsys):
    not_a_checkpoint = tmp_path / "notes.ckpt"
    not_a_checkpoint.write_text("hello")
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--checkpoint", str(not_a_checkpoint), "--format", "torchscript",
              "--output", str(tmp_path / "model.pt")])
    assert exit_.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"vidcls: error: {not_a_checkpoint}: not a checkpoint")
