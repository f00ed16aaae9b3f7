"""Clip samplers: pure functions from a video's timeline to the timestamps of the frames to read.

Dense sampling (the default): a clip is ``clip_duration`` seconds of video from which ``num_frames``
frames are taken evenly, first and last frame included: the same frames the tutorial's
``UniformTemporalSubsample`` keeps after decoding the whole clip, without decoding the frames it
throws away. Segment sampling (TSN's): the timeline is cut into ``num_frames`` equal parts and one
frame is read from each. A labelled span narrows the timeline first (:func:`span_timeline`), so
training clips stay inside it and evaluation clips spread over it.
"""

from __future__ import annotations

import math
from dataclasses import replace

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


def span_timeline(info: VideoInfo, start: float, end: float) -> VideoInfo:
    """The timeline of the span ``[start, end)`` seconds from the video's first frame, clamped to the video.

    A span reaching past the video's end keeps what there is; one starting past it keeps the last frame.
    """
    begin = min(info.begin + max(start, 0.0), info.end - 1.0 / info.fps)
    stop = max(min(info.begin + end, info.end), begin + 1.0 / info.fps)
    return replace(info, begin=begin, end=stop, num_frames=max(round((stop - begin) * info.fps), 1))


def _segment_frames(info: VideoInfo) -> int:
    return max(round(info.duration * info.fps), 1)


def _frame_time(info: VideoInfo, index: int) -> float:
    """The middle of frame ``index`` of the timeline: safe from rounding at frame boundaries."""
    return info.begin + (index + 0.5) / info.fps


def segment_frame_times(info: VideoInfo, num_frames: int, views: int = 1) -> list[list[float]]:
    """Evaluation: for each of ``views`` views, one frame from each of ``num_frames`` equal parts of the timeline.

    With ``n`` frames, part ``i`` covers frames ``[i·n/T, (i+1)·n/T)``; view ``v`` of ``V`` takes frame
    ``floor(n/T · (i + (v + ½)/V))``: one view is each part's centre frame (TSN's test indices).
    """
    frames, size = _segment_frames(info), _segment_frames(info) / num_frames
    return [[_frame_time(info, min(math.floor(size * (i + (v + 0.5) / views)), frames - 1)) for i in range(num_frames)]
            for v in range(views)]


def random_segment_frame_times(info: VideoInfo, num_frames: int, generator: torch.Generator | None = None) -> list[float]:
    """Training: one frame drawn uniformly from each of ``num_frames`` equal parts of the timeline."""
    frames, size = _segment_frames(info), _segment_frames(info) / num_frames
    draws = torch.rand(num_frames, generator=generator).tolist()
    return [_frame_time(info, min(math.floor(size * (i + u)), frames - 1)) for i, u in enumerate(draws)]


def evaluation_clips(
    info: VideoInfo, num_frames: int, clip_duration: float, views: int = 1, segments: bool = False
) -> list[list[float]]:
    """The frame times of ``views`` evaluation clips spread over the timeline: what validation, testing and prediction read.

    Dense clips of ``clip_duration`` seconds at uniformly spaced starts (a clip longer than the
    timeline repeats its last frame), or with ``segments`` TSN's parts (:func:`segment_frame_times`).
    """
    if segments:
        return segment_frame_times(info, num_frames, views)
    last = info.end - 0.5 / info.fps
    return [[min(t, last) for t in clip_frame_times(start, clip_duration, num_frames, info.fps)]
            for start in uniform_clip_starts(info, clip_duration, views)]


def training_clip(
    info: VideoInfo, num_frames: int, clip_duration: float, segments: bool = False, generator: torch.Generator | None = None
) -> list[float]:
    """The frame times of one random training clip inside the timeline (dense, or one frame per part with ``segments``)."""
    if segments:
        return random_segment_frame_times(info, num_frames, generator)
    last = info.end - 0.5 / info.fps
    start = random_clip_start(info, clip_duration, generator)
    return [min(t, last) for t in clip_frame_times(start, clip_duration, num_frames, info.fps)]
