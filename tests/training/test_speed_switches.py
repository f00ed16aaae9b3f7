"""The speed switches of VideoClassifier (channels_last, compile) and the training throughput benchmark."""

import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch

from vidcls.training.classifier import VideoClassifier

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "train_throughput.py"
SMALL_NET = {"widths": (4, 8)}  # simple3d at two blocks: compiles in seconds


def configured(device: str, **switches) -> VideoClassifier:
    """A classifier whose setup ran as Lightning runs it before fit, on ``device``."""
    torch.manual_seed(0)
    classifier = VideoClassifier("simple3d", classes=["a", "b"], model_options=SMALL_NET, **switches)
    classifier.trainer = L.Trainer(accelerator=device, devices=1, logger=False, enable_checkpointing=False)
    classifier.setup("fit")
    return classifier.to(device).eval()


def conv_weights(classifier: VideoClassifier) -> list[torch.Tensor]:
    weights = [p for p in classifier.network.parameters() if p.dim() == 5]
    assert weights
    return weights


def test_channels_last_on_cpu_keeps_outputs_and_survives_loading_weights():
    fast = configured("cpu", channels_last=True)
    plain = configured("cpu", channels_last=False)
    assert all(p.is_contiguous(memory_format=torch.channels_last_3d) for p in conv_weights(fast))
    assert all(p.is_contiguous() for p in conv_weights(plain))
    clips = torch.randn(2, 3, 4, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(fast(clips), plain(clips), rtol=1e-4, atol=1e-5)
    fast.load_state_dict(plain.state_dict())  # a checkpoint saved in the plain layout
    assert all(p.is_contiguous(memory_format=torch.channels_last_3d) for p in conv_weights(fast))


def test_channels_last_by_default_is_off_on_cpu_and_given_true_wins():
    assert all(p.is_contiguous() for p in conv_weights(configured("cpu")))  # slower there for slow_r50 (RESULTS.md)
    assert all(p.is_contiguous(memory_format=torch.channels_last_3d) for p in conv_weights(configured("cpu", channels_last=True)))


def test_compile_keeps_state_dict_keys_and_outputs():
    plain = VideoClassifier("simple3d", classes=["a", "b"], model_options=SMALL_NET)
    compiled = configured("cpu", compile=True)
    assert list(compiled.state_dict()) == list(plain.state_dict())  # checkpoints load either way
    clips = torch.randn(2, 3, 4, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(compiled(clips), compiled.network.forward(clips))  # .forward skips the compiled call


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_channels_last_on_cuda_keeps_outputs():
    fast = configured("cuda", channels_last=True)
    plain = configured("cuda", channels_last=False)
    assert all(p.is_contiguous(memory_format=torch.channels_last_3d)
               for p in fast.network.parameters() if p.dim() == 5)
    clips = torch.randn(2, 3, 4, 16, 16, device="cuda")
    with torch.no_grad():
        torch.testing.assert_close(fast(clips), plain(clips), rtol=1e-3, atol=1e-4)


def test_throughput_benchmark_prints_its_table(synth_root, tmp_path):
    command = [sys.executable, str(BENCHMARK), "--device", "cpu", "--sizes", "tiny", "--models", "x3d_xs",
               "--switches", "baseline", "--steps", "2", "--warmup", "1", "--workers", "0",
               "--data", str(synth_root), "--cache", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("| x3d_xs |")]
    cells = [cell.strip() for cell in row.strip("| ").split("|")]
    assert cells[:4] == ["x3d_xs", "4x32²", "2", "baseline"]
    model_only, versus, end_to_end, share, data = cells[4:]
    assert float(model_only) > 0 and float(end_to_end) > 0 and versus == "1.00x" and data == "0 workers, cpu decoding"
    # the share is of the unrounded figures; the cells are rounded to 0.01, which moves a ratio of small figures more
    slack = 0.5 + 100 * 0.005 * (1 + float(end_to_end) / float(model_only)) / float(model_only)
    assert share.endswith("%") and abs(int(share[:-1]) - 100 * float(end_to_end) / float(model_only)) <= 0.5 + slack
