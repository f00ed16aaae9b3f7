"""The map-style clip dataset: index → one clip of one video, decoded and transformed.

Map-style (not iterable) so that Lightning's samplers do shuffling and DDP sharding, and a
resumed run sees the same order. Randomness comes from torch's global generator, which the
DataLoader seeds per worker (and ``seed_everything`` makes reproducible).

A video that cannot be decoded, or whose decoding takes longer than ``decode_timeout``, does
not end the run: it is replaced by another video chosen
from the seed and the index (so the replacement is the same on every run), and the failure is
logged and appended to a CSV file that :class:`vidcls.training.callbacks.BadVideoMonitor` watches.
"""

from __future__ import annotations

import csv
import logging
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import torch
from torch.utils.data import Dataset

from vidcls.data.decoding import DecodeDeadline, DecoderSettings
from vidcls.data.info import VideoInfo
from vidcls.data.sampling import evaluation_clips, span_timeline, training_clip
from vidcls.data.sources import VideoSample
from vidcls.errors import VideoReadError

log = logging.getLogger(__name__)

ClipSampling = Literal["random", "centre"]
Transform = Callable[[torch.Tensor], torch.Tensor]


class VideoClipDataset(Dataset):
    """Clips of one video per item: a random clip for training, the centre clip for evaluation.

    Returns ``{"video": C×T×H×W float, "label": int, "index": int}``; ``index`` identifies the
    video. With ``multi_hot`` (a multi-label task's class count), ``label`` is a float vector of that
    length with a 1 at each of the video's classes (all 0: a negative), as binary cross-entropy takes it. With ``num_clips`` set (multi-view testing), ``video`` is ``V×C×T×H×W``: ``num_clips``
    uniformly spaced clips, times however many crops the transform makes of each. With
    ``clips_per_video`` > 1 (random sampling: repeated augmentation), ``video`` is
    ``clips_per_video`` independent random clips ``V×C×T×H×W`` read in one decoding pass.

    With ``segments``, a clip is one frame from each of ``num_frames`` equal parts of the video
    (TSN's segment sampling) instead of ``clip_duration`` seconds of it. A sample's span narrows
    the video to that span first: training clips stay inside it, evaluation clips spread over it.
    """

    def __init__(
        self,
        samples: Sequence[VideoSample],
        *,
        transform: Transform,
        sampling: ClipSampling = "random",
        num_clips: int | None = None,
        clip_duration: float = 2.0,
        num_frames: int = 8,
        clips_per_video: int = 1,
        segments: bool = False,
        decoding: DecoderSettings = DecoderSettings(),
        max_replacements: int = 20,
        seed: int = 0,
        bad_video_log: Path | None = None,
        multi_hot: int | None = None,
    ):
        self.samples = list(samples)
        self.transform = transform
        self.sampling = sampling
        self.num_clips = num_clips
        self.clip_duration = clip_duration
        self.num_frames = num_frames
        self.clips_per_video = clips_per_video
        self.segments = segments
        self.decoding = decoding
        self.max_replacements = max_replacements
        self.seed = seed
        self.bad_video_log = bad_video_log
        self.multi_hot = multi_hot
        self._deadline = DecodeDeadline(decoding.decode_timeout)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor | int]:
        candidate = index
        for attempt in range(self.max_replacements + 1):
            try:
                return self._read_in_time(candidate)
            except VideoReadError as error:
                self._record_failure(error)
                candidate = random.Random(f"{self.seed}:{index}:{attempt}").randrange(len(self.samples))
        raise VideoReadError.for_file(
            self.samples[index].path,
            f"it and {self.max_replacements} replacement videos in a row failed to decode;"
            f" the dataset is mostly unreadable (see {self.bad_video_log or 'the log'})",
        )

    def _read_in_time(self, index: int) -> dict[str, torch.Tensor | int]:
        """``read_clip``, given up after ``decode_timeout`` seconds: a pathological file must not stall the run."""
        return self._deadline.run(self.samples[index].path, self.read_clip, index)

    def _record_failure(self, error: VideoReadError) -> None:
        log.warning("Skipping unreadable video (replaced by another): %s", error)
        if self.bad_video_log is not None:
            with open(self.bad_video_log, "a", newline="", encoding="utf-8") as handle:  # one short append per line
                csv.writer(handle).writerow([error.path, error.reason])

    def read_clip(self, index: int) -> dict[str, torch.Tensor | int]:
        """The clip of video ``index``; raises :class:`VideoReadError` if it cannot be decoded."""
        sample = self.samples[index]
        with self.decoding.open(sample.path) as reader:
            info = reader.info
            if sample.span is not None:
                info = span_timeline(info, *sample.span.seconds(info.fps))
            frames = reader.frames_at([t for clip_times in self._clip_times(info) for t in clip_times])
        clips = [self.transform(clip_frames) for clip_frames in frames.split(self.num_frames)]
        if len(clips) == 1 and self.num_clips is None:
            video = clips[0]
        else:  # each clip gives C×T×H×W or crops×C×T×H×W: stack them all as views
            video = torch.cat([clip.reshape(-1, *clip.shape[-4:]) for clip in clips])
        return {"video": video, "label": self._target(sample.label), "index": index}

    def _target(self, label: int | tuple[int, ...]) -> int | torch.Tensor:
        if self.multi_hot is None:
            return label
        target = torch.zeros(self.multi_hot)
        target[list(label) if isinstance(label, tuple) else label] = 1.0
        return target

    def _clip_times(self, info: VideoInfo) -> list[list[float]]:
        """The frame times of each clip this item reads from the timeline ``info``."""
        if self.num_clips is None and self.sampling == "random":
            return [training_clip(info, self.num_frames, self.clip_duration, self.segments)
                    for _ in range(self.clips_per_video)]
        return evaluation_clips(info, self.num_frames, self.clip_duration, self.num_clips or 1, self.segments)
