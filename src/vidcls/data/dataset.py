"""The map-style clip dataset: index → one clip of one video, decoded and transformed.

Map-style (not iterable) so that Lightning's samplers do shuffling and DDP sharding, and a
resumed run sees the same order. Randomness comes from torch's global generator, which the
DataLoader seeds per worker (and ``seed_everything`` makes reproducible).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch.utils.data import Dataset

from vidcls.data.decoding import SeekMode, VideoReader
from vidcls.data.sampling import clip_frame_times, random_clip_start, uniform_clip_starts
from vidcls.data.sources import VideoSample

ClipSampling = Literal["random", "centre"]
Transform = Callable[[torch.Tensor], torch.Tensor]


class VideoClipDataset(Dataset):
    """One clip per video per epoch: a random clip for training, the centre clip for evaluation.

    Returns ``{"video": C×T×H×W float, "label": int, "index": int}``; ``index`` identifies the
    video so that evaluation can aggregate several views of it.
    """

    def __init__(
        self,
        samples: Sequence[VideoSample],
        *,
        transform: Transform,
        sampling: ClipSampling = "random",
        clip_duration: float = 2.0,
        num_frames: int = 8,
        seek_mode: SeekMode = "approximate",
        decoder_threads: int = 1,
    ):
        self.samples = list(samples)
        self.transform = transform
        self.sampling = sampling
        self.clip_duration = clip_duration
        self.num_frames = num_frames
        self.seek_mode = seek_mode
        self.decoder_threads = decoder_threads

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor | int]:
        sample = self.samples[index]
        reader = VideoReader(sample.path, seek_mode=self.seek_mode, num_threads=self.decoder_threads)
        if self.sampling == "random":
            start = random_clip_start(reader.info, self.clip_duration)
        else:
            (start,) = uniform_clip_starts(reader.info, self.clip_duration, 1)
        times = clip_frame_times(start, self.clip_duration, self.num_frames, reader.info.fps)
        return {"video": self.transform(reader.frames_at(times)), "label": sample.label, "index": index}
