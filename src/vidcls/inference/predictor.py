"""Predict on any video: video-level top-k classes, or a timeline of sliding windows; or a whole corpus in order.

A :class:`Predictor` holds a plain network with its checkpoint's classes and clip contract
(:class:`~vidcls.clip.ClipSpec`, read by :func:`~vidcls.models.checkpoint.load_network`, without
Lightning), so a video is turned into model input exactly as the test clips were: every kind of
prediction goes through one path: frame times (:func:`~vidcls.data.sampling.evaluation_clips`, the
clip's dense or segment sampling) → :class:`~vidcls.data.decoding.VideoReader` →
:func:`~vidcls.data.transforms.multi_view_transform` (the test crops) → the checkpoint's task's probabilities
(softmax, or a sigmoid per class for a multi-label network: :func:`vidcls.task.scores`), pooled over
the views by the clip's ``view_pooling``. :class:`ClipViews` builds a video's views
(picklable, so DataLoader workers build them too); :meth:`Predictor.predict_many` streams many
videos through workers (:mod:`vidcls.inference.corpus`) and runs their clips in batches across
videos, and :meth:`Predictor.predict` is that path for one video; :meth:`Predictor.timeline` gives
:mod:`vidcls.inference.timeline`'s windows and segments.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from vidcls.clip import ClipSpec
from vidcls.data.decoding import DecodeDeadline, DecoderSettings, DecodeTimeout, VideoReader
from vidcls.data.info import DEFAULT_MAX_PIXELS, check_bounds
from vidcls.data.sampling import clip_frame_times, evaluation_clips, span_timeline, uniform_clip_starts, window_starts
from vidcls.data.transforms import eval_transform, multi_view_transform, unnormalise
from vidcls.errors import VidclsError, VideoReadError
from vidcls.inference.corpus import corpus, decoded_views
from vidcls.inference.timeline import Ranked, Timeline, Window, merge_windows
from vidcls.io import available_cores
from vidcls.models import model_entry
from vidcls.models.checkpoint import load_network
from vidcls.task import DEFAULT_TASK, Task, scores

Precision = Literal["32", "bf16"]


class ClipViews:
    """A video file → its views: ``num_clips`` evaluation clips × ``num_crops`` crops, resized and cropped.

    Picklable and without the network, so DataLoader workers build views exactly as
    :meth:`Predictor.predict` does. Views stay uint8 (``…×T×C×H×W``) until :meth:`inputs` makes them
    the network's normalised float input where the network runs: a quarter of the bytes through a
    worker's shared memory, pinned memory and the copy to a GPU. A video whose frames exceed
    ``max_pixels`` or that lasts over ``max_duration`` seconds (None: no limit) is refused from its
    header, before decoding.
    """

    def __init__(self, clip: ClipSpec, num_clips: int, num_crops: int, max_pixels: int | None, max_duration: float | None,
                 decoding: DecoderSettings = DecoderSettings()):
        self.clip = clip
        self.num_clips = num_clips
        self.transform = multi_view_transform(replace(clip, test_crops=num_crops))
        self.max_pixels = max_pixels
        self.max_duration = max_duration
        self.decoding = decoding
        self.deadline = DecodeDeadline(decoding.decode_timeout)  # for each video's views; a timeline's each batch

    @property
    def segments(self) -> bool:
        """True when the checkpoint's clip is TSN's segment sampling, not dense clips."""
        return self.clip.sampling == "segment"

    def __call__(self, path: str | Path) -> torch.Tensor:
        """uint8 ``clips×crops×T×C×H×W``: the evaluation clips spread over the video (dense, or TSN's parts).

        Given up after the decoding settings' ``decode_timeout`` seconds: one pathological file must not stall a corpus.
        """
        return self.deadline.run(path, self._views, path)

    def _views(self, path: str | Path) -> torch.Tensor:
        with self.open(path) as reader:
            clip_times = evaluation_clips(reader.info, self.clip.num_frames, self.clip.clip_duration, self.num_clips,
                                          self.segments)
            return self.clips(reader, clip_times)

    def clips(self, reader: VideoReader, clip_times: Sequence[Sequence[float]]) -> torch.Tensor:
        """The clip read at each list of frame times, with its crops: uint8 ``len(clip_times)×crops×T×C×H×W``."""
        return torch.stack([self.transform.crops(reader.frames_at(times)) for times in clip_times])

    def inputs(self, views: torch.Tensor) -> torch.Tensor:
        """Views (``…×T×C×H×W`` uint8, on any device) → the network's input there: ``…×C×T×H×W``, normalised."""
        return self.transform.normalise(views)

    def open(self, path: str | Path) -> VideoReader:
        """A reader for the video file ``path``, once its header shows it within the size and duration limits."""
        path = Path(path)
        if not path.is_file():
            raise VideoReadError.for_file(path, "folder has no video files" if path.is_dir() else "no such file or folder")
        reader = self.decoding.open(path)
        try:
            check_bounds(path, reader.info, max_pixels=self.max_pixels, max_duration=self.max_duration)
        except VideoReadError:
            reader.close()
            raise
        return reader


@dataclass(frozen=True)
class VideoPrediction:
    """One video's result: class probabilities pooled over its views, or why it could not be read.

    ``features``: the mean over its views of the classifier's input (the pooled features), when asked for.
    """

    path: str
    probabilities: torch.Tensor | None  # num_classes, on the CPU
    features: torch.Tensor | None = None  # feature_size, float32, on the CPU
    error: str | None = None


class Predictor:
    """A trained network with its checkpoint's classes and clip contract: video file → class probabilities.

    A video is scored as its checkpoint was tested: the probabilities (``task``'s: softmax, or
    sigmoid for multi-label) of ``num_clips`` clips at uniform positions (the centres of equal parts
    of the video) × ``num_crops`` crops along the long side, pooled by the clip's ``view_pooling``
    (mean, or max); None takes the clip's ``test_clips`` and ``test_crops``. A timeline's windows are
    clips of their own, each with its crops. Clips (each with its crops) are run ``batch_size`` at
    a time, across videos in :meth:`predict_many`. A video whose frames exceed ``max_pixels`` or
    that lasts over ``max_duration`` seconds (None: no limit) is refused from its header, before
    decoding, with a :class:`VideoReadError`. Videos are read with ``decoding``: a video's views (a
    timeline's batch of windows) taking longer than its ``decode_timeout`` are given up, with an
    error. ``precision="bf16"``
    runs the network under autocast. ``feature_layer`` names the classifier module (the model
    family's head) whose input :meth:`predict_many` returns as features.
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
        precision: Precision = "32",
        feature_layer: str | None = None,
        task: Task = DEFAULT_TASK,
    ):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.network = network.to(self.device).eval()
        self.classes = list(classes)
        self.clip = clip
        self.num_clips = clip.test_clips if num_clips is None else num_clips
        self.num_crops = clip.test_crops if num_crops is None else num_crops
        self.views = ClipViews(clip, self.num_clips, self.num_crops, max_pixels, max_duration, decoding)
        self.batch_size = batch_size
        self.precision = precision
        self.feature_layer = feature_layer
        self.task = task

    @classmethod
    def from_checkpoint(cls, path: str | Path, **options) -> Predictor:
        """The usual entry point: ``Predictor.from_checkpoint("best.ckpt").predict("video.mp4")``; ``options`` as above."""
        loaded = load_network(path)
        head = model_entry(loaded.model).head
        feature_layer = head[-1] if isinstance(head, tuple) else head  # the last: the layer that makes the logits
        return cls(loaded.network, loaded.clip, loaded.classes,
                   **{"feature_layer": feature_layer, "task": loaded.task, **options})

    def predict(self, path: str | Path, top_k: int = 5) -> Ranked:
        """The ``top_k`` most probable classes of a whole video, with their probabilities."""
        (result,) = self.predict_many([path], workers=0)
        if result.error is not None:
            raise VideoReadError.for_file(path, result.error)
        return self.ranked(result.probabilities, top_k)

    def predict_many(
        self, paths: Iterable[str | Path], *, workers: int | None = None, batch_size: int | None = None,
        features: bool = False,
    ) -> Iterator[VideoPrediction]:
        """Every video of ``paths`` (files and folders, streamed), in order: ``workers`` processes decode while the network runs.

        ``workers`` defaults to the cores available; ``batch_size`` (clips per network batch, across
        videos) to the predictor's. A video that cannot be read is a result with its ``error``, and so
        is one whose decoding process dies on it (the run goes on with new workers).
        """
        workers = available_cores() if workers is None else workers
        batch_size = batch_size or self.batch_size
        on_gpu = torch.device(self.views.decoding.decode_device).type == "cuda"  # the views arrive on the GPU
        loader = decoded_views(corpus(paths), self.views, workers=workers, pin_memory=self.device.type == "cuda" and not on_gpu,
                               batch_videos=-(-batch_size // self.num_clips), spawn=on_gpu)
        with self._features_hook() if features else nullcontext() as pooled:
            yield from in_input_order(self._on_device(loader), batch_size,
                                      lambda views: self._score(views, pooled), self.clip.pool_views)

    def preview(self, path: str | Path, count: int = 8) -> torch.Tensor:
        """``count`` frames at the centres of equal parts of the video, resized and cropped as the network sees them.

        uint8 ``T×H×W×C``: what a page shows next to a prediction.
        """
        with self.views.open(path) as reader:
            times = uniform_clip_starts(reader.info, 0.0, count)  # clips of no length: the parts' centres
            return unnormalise(eval_transform(self.clip)(reader.frames_at(times)), self.clip)  # the centre crop

    def timeline(
        self, path: str | Path, *, window: float | None = None, stride: float | None = None, top_k: int = 1
    ) -> Timeline:
        """Predictions of sliding windows over a long video, and the segments where the top class stays the same.

        ``window`` defaults to the training clip duration (a longer window spreads the same number of
        frames thinner, so motion looks faster than in training); ``stride`` defaults to half a window.
        A checkpoint trained on segments (TSN's parts of whole videos) has no clip duration: its window is given.
        """
        if window is None and self.views.segments:
            raise VidclsError("timeline: this checkpoint samples its frames from parts of whole videos, so no window "
                              "length comes with it: give timeline(window=SECONDS)")
        window = window or self.clip.clip_duration
        deadline = self.views.deadline  # each batch of windows decoded within the decoding settings' timeout
        reader = deadline.run(path, self.views.open, path)
        try:
            info = reader.info
            starts = window_starts(info, window, stride or window / 2)
            if self.views.segments:  # each window's parts
                clip_times = [evaluation_clips(span_timeline(info, start - info.begin, start - info.begin + window),
                                               self.clip.num_frames, window, segments=True)[0] for start in starts]
            else:
                clip_times = [clip_frame_times(start, window, self.clip.num_frames, info.fps) for start in starts]
            batches = (deadline.run(path, self.views.clips, reader, clip_times[i : i + self.batch_size])
                       for i in range(0, len(clip_times), self.batch_size))
            probabilities = torch.cat([self._score(views, None)[0] for views in batches])
        except DecodeTimeout:
            raise  # the reader stays with the call still running on the deadline's abandoned thread
        except BaseException:
            reader.close()
            raise
        reader.close()
        windows = [Window(start - info.begin, min(start + window, info.end) - info.begin, self.ranked(p, top_k))
                   for start, p in zip(starts, probabilities)]
        return Timeline(windows, merge_windows(windows, info.duration))

    def ranked(self, probabilities: torch.Tensor, top_k: int) -> Ranked:
        """The ``top_k`` classes of a probability vector, most probable first."""
        values, indices = probabilities.topk(min(top_k, len(self.classes)))
        return [(self.classes[i], float(v)) for v, i in zip(values.tolist(), indices.tolist())]

    def _on_device(self, items: Iterable[dict]) -> Iterator[dict]:
        """Each video's views copied to the device as they arrive (from pinned memory: without waiting), batched there."""
        for item in items:
            if item["views"] is not None:
                item["views"] = item["views"].to(self.device, non_blocking=True)
            yield item

    def _score(self, views: torch.Tensor, pooled: list | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Each clip's probabilities pooled over its crops (``clips×num_classes``, CPU), and its features averaged likewise."""
        views = self.views.inputs(views.to(self.device, non_blocking=True))
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")
        with torch.inference_mode(), autocast:
            logits = self.network(views.flatten(0, 1))
        probabilities = self.clip.pool_views(scores(logits, self.task).unflatten(0, views.shape[:2]), 1).cpu()
        if pooled is None:
            return probabilities, None
        features = pooled.pop()  # views×…×feature_size: channels last at the classifier (a PyTorchVideo proj sees N×T×H×W×C)
        features = features.float().reshape(len(features), -1, features.shape[-1]).mean(1)
        return probabilities, features.unflatten(0, views.shape[:2]).mean(1).cpu()

    @contextmanager
    def _features_hook(self) -> Iterator[list]:
        """While open, each network call leaves its classifier's input in the list yielded."""
        if self.feature_layer is None:
            raise VidclsError("features: no classifier layer is known for this network (its model card names no head; "
                              "give Predictor(feature_layer=MODULE_NAME))")
        try:
            layer = self.network.get_submodule(self.feature_layer)
        except AttributeError as error:
            raise VidclsError(f"features: the network has no module {self.feature_layer!r}") from error
        pooled: list = []
        handle = layer.register_forward_pre_hook(lambda module, args: pooled.append(args[0].detach()))
        try:
            yield pooled
        finally:
            handle.remove()


class _Video:
    """A video between its views' arrival and its result: the scores of its clips as their batches return."""

    def __init__(self, path: str, error: str | None, clips: int):
        self.path, self.error, self.clips = path, error, clips
        self.probabilities: list[torch.Tensor] = []
        self.features: list[torch.Tensor] = []
        self.scored = 0

    def result(self, pool: Pool) -> VideoPrediction:
        if self.error is not None:
            return VideoPrediction(self.path, None, error=self.error)
        features = torch.cat(self.features).mean(0) if self.features else None
        return VideoPrediction(self.path, pool(torch.cat(self.probabilities), 0), features)


Scorer = Callable[[torch.Tensor], tuple[torch.Tensor, "torch.Tensor | None"]]
Pool = Callable[[torch.Tensor, int], torch.Tensor]  # a video's clip probabilities → its own (ClipSpec.pool_views)


def in_input_order(items: Iterable[dict], batch_size: int, score: Scorer, pool: Pool) -> Iterator[VideoPrediction]:
    """Results of the loader's videos in their order, their clips run ``batch_size`` at a time across videos.

    A batch may end inside a video: its clips are scored in two batches and its result waits for
    both. Between batches fewer than ``batch_size`` clips wait, with the videos they belong to.
    """
    waiting: deque[_Video] = deque()  # in input order, result not yet given
    queued: deque[tuple[_Video, torch.Tensor]] = deque()  # clips not yet run, with their video
    count = 0
    for item in items:
        views = item["views"]
        video = _Video(item["path"], item["error"], 0 if views is None else len(views))
        waiting.append(video)
        if views is not None:
            queued.append((video, views))
            count += len(views)
        while count >= batch_size:
            count -= _run_batch(queued, batch_size, score)
        while waiting and waiting[0].scored == waiting[0].clips:
            yield waiting.popleft().result(pool)
    while queued:
        _run_batch(queued, batch_size, score)
    yield from (video.result(pool) for video in waiting)


def _run_batch(queued: deque[tuple[_Video, torch.Tensor]], batch_size: int, score: Scorer) -> int:
    """Score up to ``batch_size`` clips from the front of the queue; hand each video its share. The clips run."""
    parts, owners = [], []
    taken = 0
    while queued and taken < batch_size:
        video, clips = queued[0]
        take = min(len(clips), batch_size - taken)
        parts.append(clips[:take])
        owners.append((video, take))
        if take == len(clips):
            queued.popleft()
        else:
            queued[0] = (video, clips[take:])
        taken += take
    probabilities, features = score(parts[0] if len(parts) == 1 else torch.cat(parts))
    first = 0
    for video, take in owners:
        video.probabilities.append(probabilities[first : first + take])
        if features is not None:
            video.features.append(features[first : first + take])
        video.scored += take
        first += take
    return taken
