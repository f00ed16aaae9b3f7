"""What a video's header says (its timeline and frame size), and the bounds a video must stay within.

Plain numbers, no decoder: samplers, verification and prediction read them without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidcls.errors import VideoReadError


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


DEFAULT_MAX_PIXELS = 4096 * 4096  # 4K UHD and DCI 4K pass; 8 RGB frames of this size are 400 MB


def check_bounds(
    path: str | Path, info: VideoInfo, *, max_pixels: int | None = DEFAULT_MAX_PIXELS, max_duration: float | None = None
) -> None:
    """Refuse a video larger than ``max_pixels`` per frame or longer than ``max_duration`` seconds (None: no limit).

    Read from the header before any frame is decoded, so an 8K or hours-long file is named, not decoded.
    """
    if max_pixels is not None and info.width * info.height > max_pixels:
        raise VideoReadError.for_file(
            path, f"{info.width}x{info.height} frames are {info.width * info.height} pixels, above the limit of {max_pixels}"
        )
    if max_duration is not None and info.duration > max_duration:
        raise VideoReadError.for_file(path, f"{info.duration:.1f} s long, above the limit of {max_duration:g} s")
