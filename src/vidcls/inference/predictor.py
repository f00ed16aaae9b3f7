"""Predict on any video: video-level top-k classes, or a timeline of sliding windows.

A :class:`Predictor` holds a plain network with its checkpoint's classes and clip contract
(:class:`~vidcls.clip.ClipSpec`, read by :func:`~vidcls.models.checkpoint.load_network`, without
Lightning), so a video is turned into model input exactly as the test clips were: both kinds of
prediction go through one path: frame times (:func:`~vidcls.data.sampling.evaluation_clips`, the
clip's dense or segment sampling) → :class:`~vidcls.data.decoding.VideoReader` →
:func:`~vidcls.data.transforms.multi_view_transform` (the test crops) → the checkpoint's task's probabilities
(softmax, or a sigmoid per class for a multi-label network: :func:`vidcls.task.scores`), pooled over
the views by the clip's ``view_pooling``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import groupby
from pathlib import Path

import torch
from torch import nn

from vidcls.clip import ClipSpec
from vidcls.data.decoding import DecoderSettings, VideoReader
from vidcls.data.info import DEFAULT_MAX_PIXELS, check_bounds
from vidcls.data.sampling import clip_frame_times, evaluation_clips, span_timeline, uniform_clip_starts, window_starts
from vidcls.data.sources import is_video
from vidcls.data.transforms import eval_transform, multi_view_transform, unnormalise
from vidcls.errors import VideoReadError
from vidcls.models.checkpoint import load_network
from vidcls.task import DEFAULT_TASK, Task, scores

Ranked = list[tuple[str, float]]  # (class name, probability), most probable first


def video_files(path: str | Path) -> list[Path]:
    """A file as itself, a folder as the video files below it, sorted; a missing path or empty folder is an error."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if is_video(p))
        if not files:
            raise VideoReadError.for_file(path, "folder has no video files")
        return files
    if not path.exists():
        raise VideoReadError.for_file(path, "no such file or folder")
    return [path]


@dataclass(frozen=True)
class Window:
    """One sliding window: its span (seconds from the video's start) and its top-k classes."""

    start: float
    end: float
    predictions: Ranked

    @property
    def label(self) -> str:
        return self.predictions[0][0]


@dataclass(frozen=True)
class Segment:
    """Consecutive windows with the same top-1 class; ``score`` is that class's mean probability over them."""

    start: float
    end: float
    label: str
    score: float


@dataclass(frozen=True)
class Timeline:
    """A long video's windows in time order, and the segments they merge into."""

    windows: list[Window]
    segments: list[Segment]


class Predictor:
    """A trained network with its checkpoint's classes and clip contract: video file → class probabilities.

    A video is scored as its checkpoint was tested: the probabilities (``task``'s: softmax, or
    sigmoid for multi-label) of ``num_clips`` clips at uniform positions (the centres of equal parts
    of the video) × ``num_crops`` crops along the long side, pooled by the clip's ``view_pooling``
    (mean, or max); None takes the clip's ``test_clips`` and ``test_crops``. A timeline's windows are
    clips of their own, each with its crops. Clips (each with its crops) are run ``batch_size`` at
    a time. A video whose frames exceed ``max_pixels`` or that lasts over ``max_duration`` seconds
    (None: no limit) is refused from its header, before decoding, with a :class:`VideoReadError`.
    Videos are read with ``decoding`` (its ``decode_timeout`` is the dataset's, unused here).
    """

    def __init__(
        self,
        network: nn.Module,
        clip: ClipSpec,
        classes: Sequence[str],
        *,
        num_clips: int | None = None,
        num_crops: int | None = None,
        batch_size: int = 8,
        device: str | torch.device | None = None,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
        max_duration: float | None = None,
        decoding: DecoderSettings = DecoderSettings(),
        task: Task = DEFAULT_TASK,
    ):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.network = network.to(self.device).eval()
        self.classes = list(classes)
        self.clip = clip
        self.num_clips = clip.test_clips if num_clips is None else num_clips
        self.num_crops = clip.test_crops if num_crops is None else num_crops
        self.transform = multi_view_transform(replace(clip, test_crops=self.num_crops))  # crops×C×T×H×W per clip
        self.batch_size = batch_size
        self.max_pixels = max_pixels
        self.max_duration = max_duration
        self.decoding = decoding
        self.task = task

    @classmethod
    def from_checkpoint(cls, path: str | Path, **options) -> Predictor:
        """The usual entry point: ``Predictor.from_checkpoint("best.ckpt").predict("video.mp4")``; ``options`` as above."""
        loaded = load_network(path)
        return cls(loaded.network, loaded.clip, loaded.classes, task=loaded.task, **options)

    def predict(self, path: str | Path, top_k: int = 5) -> Ranked:
        """The ``top_k`` most probable classes of a whole video, with their probabilities."""
        with self._open(path) as reader:
            clips = evaluation_clips(reader.info, self.clip.num_frames, self.clip.clip_duration, self.num_clips,
                                     self.segments)
            return self._ranked(self.clip.pool_views(self._probabilities(reader, clips), 0), top_k)

    def preview(self, path: str | Path, count: int = 8) -> torch.Tensor:
        """``count`` frames at the centres of equal parts of the video, resized and cropped as the network sees them.

        uint8 ``T×H×W×C``: what a page shows next to a prediction.
        """
        with self._open(path) as reader:
            times = uniform_clip_starts(reader.info, 0.0, count)  # clips of no length: the parts' centres
            return unnormalise(eval_transform(self.clip)(reader.frames_at(times)), self.clip)  # the centre crop

    def timeline(
        self, path: str | Path, *, window: float | None = None, stride: float | None = None, top_k: int = 1
    ) -> Timeline:
        """Predictions of sliding windows over a long video, and the segments where the top class stays the same.

        ``window`` defaults to the training clip duration (a longer window spreads the same number of
        frames thinner, so motion looks faster than in training); ``stride`` defaults to half a window.
        """
        window = window or self.clip.clip_duration
        with self._open(path) as reader:
            info = reader.info
            starts = window_starts(info, window, stride or window / 2)
            if self.segments:  # each window's parts
                clips = [evaluation_clips(span_timeline(info, start - info.begin, start - info.begin + window),
                                          self.clip.num_frames, window, segments=True)[0] for start in starts]
            else:
                clips = [clip_frame_times(start, window, self.clip.num_frames, info.fps) for start in starts]
            windows = [
                Window(start - info.begin, min(start + window, info.end) - info.begin, self._ranked(p, top_k))
                for start, p in zip(starts, self._probabilities(reader, clips))
            ]
        return Timeline(windows, merge_windows(windows, info.duration))

    def _open(self, path: str | Path) -> VideoReader:
        """A reader for ``path``, once its header shows it within the size and duration limits."""
        reader = self.decoding.open(path)
        try:
            check_bounds(path, reader.info, max_pixels=self.max_pixels, max_duration=self.max_duration)
        except VideoReadError:
            reader.close()
            raise
        return reader

    @property
    def segments(self) -> bool:
        """True when the checkpoint's clip is TSN's segment sampling, not dense clips."""
        return self.clip.sampling == "segment"

    def _probabilities(self, reader: VideoReader, clip_times: Sequence[Sequence[float]]) -> torch.Tensor:
        """Probabilities of the clip read at each list of frame times, pooled over its crops: ``len(clip_times)×num_classes``, on the CPU."""
        results = []
        for first in range(0, len(clip_times), self.batch_size):
            clips = [self.transform(reader.frames_at(times)) for times in clip_times[first : first + self.batch_size]]
            views = torch.stack(clips)  # clips×crops×C×T×H×W
            with torch.inference_mode():
                logits = self.network(views.flatten(0, 1).to(self.device))
            results.append(self.clip.pool_views(scores(logits, self.task).unflatten(0, views.shape[:2]), 1).cpu())
        return torch.cat(results)

    def _ranked(self, probabilities: torch.Tensor, top_k: int) -> Ranked:
        values, indices = probabilities.topk(min(top_k, len(self.classes)))
        return [(self.classes[i], float(v)) for v, i in zip(values.tolist(), indices.tolist())]


def merge_windows(windows: Sequence[Window], duration: float) -> list[Segment]:
    """Runs of windows with the same top-1 class as segments that tile ``[0, duration]``.

    Windows overlap, so each owns the time nearer its centre than any other window's centre;
    a segment's score is the mean top-1 probability of its windows.
    """
    centres = [(w.start + w.end) / 2 for w in windows]
    bounds = [0.0, *((a + b) / 2 for a, b in zip(centres, centres[1:])), duration]
    segments = []
    for label, group in groupby(enumerate(windows), key=lambda item: item[1].label):
        run = list(group)
        first, last = run[0][0], run[-1][0]
        score = sum(w.predictions[0][1] for _, w in run) / len(run)
        segments.append(Segment(bounds[first], bounds[last + 1], label, score))
    return segments
