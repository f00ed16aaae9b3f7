"""Open a video and read only the frames shown at given times, with torchcodec (FFmpeg).

Decoding a whole 10 s video to keep 8 frames is what makes naive loaders slow; asking the
decoder for frames *played at* the sampled timestamps decodes only from the nearest keyframe.
Every failure becomes a :class:`~vidcls.errors.VideoReadError` that names the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torchcodec.decoders import VideoDecoder

from vidcls.errors import VideoReadError

SeekMode = Literal["exact", "approximate"]


@dataclass(frozen=True)
class VideoInfo:
    """What a sampler needs to know about a video's timeline."""

    begin: float  # seconds of the first frame (not always 0)
    end: float  # seconds at which the last frame stops being shown
    fps: float
    num_frames: int
    width: int
    height: int

    @property
    def duration(self) -> float:
        return self.end - self.begin


class VideoReader:
    """A decoder for one video file.

    ``seek_mode="approximate"`` trusts the container's index and opens instantly;
    ``"exact"`` scans the file first (slower to open, exact on files with a broken index).
    Keep ``num_threads=1`` inside DataLoader workers: parallelism comes from the workers.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        seek_mode: SeekMode = "approximate",
        num_threads: int = 1,
        device: str = "cpu",
    ):
        self.path = Path(path)
        try:
            self._decoder = VideoDecoder(
                str(self.path), seek_mode=seek_mode, num_ffmpeg_threads=num_threads, device=device
            )
            self.info = _video_info(self._decoder)
        except Exception as error:  # torchcodec raises RuntimeError/ValueError with FFmpeg's reason
            raise VideoReadError.for_file(self.path, _first_line(error)) from error
        if self.info.num_frames < 1 or self.info.duration <= 0:
            raise VideoReadError.for_file(self.path, "video stream has no frames")

    def frames_at(self, times: Sequence[float]) -> torch.Tensor:
        """Frames displayed at ``times`` (seconds) as uint8 ``T×C×H×W``; times past either end are clamped."""
        last_frame_time = self.info.end - 0.5 / self.info.fps
        clamped = [min(max(t, self.info.begin), last_frame_time) for t in times]
        try:
            return self._decoder.get_frames_played_at(seconds=clamped).data
        except Exception as error:
            raise VideoReadError.for_file(self.path, f"decoding failed: {_first_line(error)}") from error


def _video_info(decoder: VideoDecoder) -> VideoInfo:
    meta = decoder.metadata
    begin = meta.begin_stream_seconds or 0.0
    end = meta.end_stream_seconds
    fps = meta.average_fps
    num_frames = meta.num_frames
    if end is None or not fps or not num_frames:
        raise ValueError("container reports no duration, frame rate or frame count")
    return VideoInfo(float(begin), float(end), float(fps), int(num_frames), int(meta.width), int(meta.height))


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
