"""Open a video and read only the frames shown at given times (FFmpeg, through PyAV or torchcodec).

Decoding a whole 10 s video to keep 8 frames is what makes naive loaders slow. On the CPU the
default ``decoder="pyav"`` feeds the decoder only the packets the requested frames depend on
(:mod:`vidcls.data.selective`); ``"torchcodec"`` decodes from the keyframe before each frame, and
is what decodes on a GPU (``device="cuda"``). Both return the same pixels.
Every failure becomes a :class:`~vidcls.errors.VideoReadError` that names the file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import av
import torch
from torchcodec.decoders import VideoDecoder, VideoStreamMetadata

from vidcls.data.info import VideoInfo
from vidcls.data.selective import FramesMissing, SelectiveDecoder, decode_on
from vidcls.errors import VideoReadError, first_line

log = logging.getLogger(__name__)

SeekMode = Literal["exact", "approximate"]
Decoder = Literal["pyav", "torchcodec"]
Result = TypeVar("Result")


@dataclass(frozen=True)
class DecoderSettings:
    """How videos are decoded, with the defaults: the one declaration behind the ``--data.*`` flags, the dataset and the predictor.

    The names are the datamodule's flags; :class:`VideoReader` and :meth:`open` say what each does.
    ``decode_timeout`` is the seconds after which the dataset abandons a clip, and prediction a video
    (None: wait forever; :class:`DecodeDeadline`).
    """

    decoder: Decoder = "pyav"
    seek_mode: SeekMode = "approximate"
    decoder_threads: int = 1
    decode_device: str = "cpu"
    decode_timeout: float | None = 30.0

    def open(self, path: str | Path) -> VideoReader:
        """A reader of ``path`` with these settings."""
        return VideoReader(path, decoder=self.decoder, seek_mode=self.seek_mode, num_threads=self.decoder_threads,
                           device=self.decode_device)


class DecodeTimeout(VideoReadError):
    """A decoding call past its deadline: it still runs on its own thread, with whatever it was given."""


class DecodeDeadline:
    """Runs a decoding call on a thread of its own and gives it up after ``timeout`` seconds (None or 0: waits).

    FFmpeg cannot be interrupted: a call past its time is left behind on its thread, and the next
    runs on a new one. Each process starts its own thread: a DataLoader worker, forked or spawned,
    never inherits its parent's (a forked copy would hold a thread that is not there).
    """

    def __init__(self, timeout: float | None):
        self.timeout = timeout
        self._thread: ThreadPoolExecutor | None = None
        self._process = os.getpid()

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_thread": None}

    def run(self, path: str | Path, call: Callable[..., Result], *args: object) -> Result:
        """``call(*args)``, or a :class:`DecodeTimeout` naming ``path`` once ``timeout`` seconds have passed.

        Calls run one after another on the same thread until one is given up: an object opened by
        one call (a reader) can be used by the next ones and never by two threads at once.
        """
        if not self.timeout:
            return call(*args)
        if self._thread is None or self._process != os.getpid():
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vidcls-decode")
            self._process = os.getpid()
        future = self._thread.submit(call, *args)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            self._thread.shutdown(wait=False)
            self._thread = None
            raise DecodeTimeout.for_file(path, f"decoding took longer than {self.timeout:g} s") from None


class VideoReader:
    """A decoder for one video file.

    ``decoder="pyav"`` (CPU only) reads MP4/MOV and Matroska/WebM selectively and other
    containers with torchcodec, as it does any file whose timestamps turn out unreliable.
    ``seek_mode`` is torchcodec's: ``"approximate"`` trusts the container's index and opens
    instantly, ``"exact"`` scans the file first (exact on files with a broken index).
    Keep ``num_threads=1`` inside DataLoader workers: parallelism comes from the workers.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        decoder: Decoder = DecoderSettings.decoder,
        seek_mode: SeekMode = DecoderSettings.seek_mode,
        num_threads: int = DecoderSettings.decoder_threads,
        device: str = DecoderSettings.decode_device,
    ):
        self.path = Path(path)
        self._torchcodec_options = dict(seek_mode=seek_mode, num_ffmpeg_threads=num_threads, device=device)
        self._torchcodec: VideoDecoder | None = None
        self._selective: SelectiveDecoder | None = None
        try:
            if decoder == "pyav" and torch.device(device).type == "cpu":
                self._selective = SelectiveDecoder.open(self.path, num_threads)
            if self._selective is not None:
                self.info = _pyav_info(self._selective.container, self._selective.stream)
            else:
                self.info = _torchcodec_info(self._torchcodec_decoder().metadata)
            if self.info.num_frames < 1 or self.info.duration <= 0:
                raise ValueError("video stream has no frames")
        except Exception as error:  # FFmpeg's reason, raised as RuntimeError/ValueError/av.FFmpegError
            self.close()
            raise VideoReadError.for_file(self.path, first_line(error)) from error

    def frames_at(self, times: Sequence[float]) -> torch.Tensor:
        """Frames displayed at ``times`` (seconds) as uint8 ``T×C×H×W``; times past either end are clamped."""
        last_frame_time = self.info.end - 0.5 / self.info.fps
        clamped = [min(max(t, self.info.begin), last_frame_time) for t in times]
        try:
            if self._selective is not None:
                try:
                    return self._selective.frames_at(clamped)
                except FramesMissing as missing:
                    log.debug("%s: %s; reading it with torchcodec", self.path, missing)
                    self._selective = None
            return self._torchcodec_frames(clamped)
        except Exception as error:
            raise VideoReadError.for_file(self.path, f"decoding failed: {first_line(error)}") from error

    def close(self) -> None:
        """Free FFmpeg's buffers and the file now, not at the next garbage collection.

        PyAV's containers sit in reference cycles; a DataLoader worker that opens a reader per
        clip held ~180 MB more without this (measured over 3000 clips).
        """
        if self._selective is not None:
            self._selective.container.close()
        self._selective = self._torchcodec = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _torchcodec_frames(self, times: list[float]) -> torch.Tensor:
        """torchcodec's frames at ``times``; where torchcodec fails on the CPU, PyAV's, decoding from the start.

        torchcodec 0.17 loses the last frames of AVIs with packed B-frames (XviD, FFmpeg's mpeg4
        with ``-bf``): a request reaching them fails with "no more frames left to decode".
        """
        try:
            return self._torchcodec_decoder().get_frames_played_at(seconds=times).data
        except RuntimeError as error:
            if self._torchcodec_options["device"] != "cpu":
                raise
            log.debug("%s: torchcodec failed (%s); decoding on with PyAV", self.path, first_line(error))
            with av.open(str(self.path)) as container:
                return decode_on(container, times, self.info.begin, self.info.fps)

    def _torchcodec_decoder(self) -> VideoDecoder:
        """Opened on first use: files read selectively never pay for it."""
        if self._torchcodec is None:
            self._torchcodec = VideoDecoder(str(self.path), **self._torchcodec_options)
        return self._torchcodec


def _torchcodec_info(meta: VideoStreamMetadata) -> VideoInfo:
    begin = meta.begin_stream_seconds or 0.0
    return _checked_info(begin, meta.end_stream_seconds, meta.average_fps, meta.num_frames, meta.width, meta.height)


def _pyav_info(container: av.container.InputContainer, stream: av.VideoStream) -> VideoInfo:
    """The header's timeline, as torchcodec's approximate mode reads it (the same numbers)."""
    begin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    if stream.duration is not None:
        duration = float(stream.duration * stream.time_base)
    else:  # Matroska/WebM keep the duration in the container only
        duration = container.duration / av.time_base if container.duration else None
    fps = float(stream.average_rate or stream.guessed_rate or 0)
    num_frames = stream.frames or (int(duration * fps) if duration else 0)
    end = begin + duration if duration else None
    context = stream.codec_context
    return _checked_info(begin, end, fps, num_frames, context.width, context.height)


def _checked_info(
    begin: float, end: float | None, fps: float | None, num_frames: int | None, width: int, height: int
) -> VideoInfo:
    if end is None or not fps or not num_frames:
        raise ValueError("container reports no duration, frame rate or frame count")
    return VideoInfo(float(begin), float(end), float(fps), int(num_frames), int(width), int(height))

