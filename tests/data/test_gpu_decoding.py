"""Decoding and transforms on the GPU (torchcodec, device="cuda"); skipped cleanly without CUDA."""

import pytest
import torch

from vidcls.data.datamodule import VideoDataModule
from vidcls.data.decoding import VideoReader

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_frames_decode_on_the_gpu_like_on_the_cpu(synth_root):
    path = next((synth_root / "train" / "moving_left").iterdir())
    times = [0.0, 1.0, 2.5]
    gpu = VideoReader(path, device="cuda").frames_at(times)
    cpu = VideoReader(path).frames_at(times)
    assert gpu.device.type == "cuda" and gpu.dtype == torch.uint8 and gpu.shape == cpu.shape
    assert (gpu.cpu().float() - cpu.float()).abs().mean() < 3  # NVDEC converts colours with its own rounding


def test_train_batches_are_transformed_on_the_gpu(synth_root):
    datamodule = VideoDataModule(root=str(synth_root), decode_device="cuda", batch_size=4, num_workers=0,
                                 num_frames=4, crop_size=32, min_scale=36, max_scale=44, eval_resize=36)
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    assert batch["video"].device.type == "cuda" and batch["video"].shape == (4, 3, 4, 32, 32)
    assert batch["video"].dtype == torch.float32
