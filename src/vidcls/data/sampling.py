"""Clip samplers: pure functions from a video's timeline to the timestamps of the frames to read.

A clip is ``clip_duration`` seconds of video from which ``num_frames`` frames are taken evenly,
first and last frame included: the same frames the tutorial's ``UniformTemporalSubsample``
keeps after decoding the whole clip, without decoding the frames it throws away.
"""

from __future__ import annotations

import torch

from vidcls.data.info import VideoInfo


def random_clip_start(info: VideoInfo, clip_duration: float, generator: torch.Generator | None = None) -> float:
    """Training: a start time drawn uniformly so the clip fits in the video (0 offset if it cannot)."""
    max_offset = max(info.duration - clip_duration, 0.0)
    return info.begin + max_offset * float(torch.rand((), generator=generator))


def uniform_clip_starts(info: VideoInfo, clip_duration: float, num_clips: int = 1) -> list[float]:
    """Evaluation: ``num_clips`` starts at the centres of equal parts of the video (one clip: the centre clip)."""
    max_offset = max(info.duration - clip_duration, 0.0)
    return [info.begin + max_offset * (i + 0.5) / num_clips for i in range(num_clips)]


def clip_frame_times(start: float, clip_duration: float, num_frames: int, fps: float) -> list[float]:
    """Timestamps of ``num_frames`` frames spread evenly from the clip's first frame to its last.

    A clip shorter than the video's remaining length is clamped by the reader, which repeats the
    last frame: a 1 s video still yields a full clip.
    """
    last = start + max(clip_duration - 1.0 / fps, 0.0)
    if num_frames == 1:
        return [(start + last) / 2]
    step = (last - start) / (num_frames - 1)
    return [start + i * step for i in range(num_frames)]


def window_starts(info: VideoInfo, window: float, stride: float) -> list[float]:
    """Starts every ``stride`` seconds while the window fits, then one flush with the end so the tail is seen."""
    last = max(info.end - window, info.begin)
    starts = [info.begin + i * stride for i in range(int((last - info.begin) / stride + 1e-6) + 1)]
    if last - starts[-1] > 1e-6:
        starts.append(last)
    return starts
