"""A decoder that hangs on one file, as FFmpeg can on a pathological one: for the decode-timeout tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from vidcls.data.decoding import VideoReader


@contextmanager
def stuck_on(path: str | Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """While open, reading frames of ``path`` waits (up to 10 s); on leaving, the waiting read is let go."""
    release = threading.Event()
    real_frames_at = VideoReader.frames_at

    def frames_at(reader: VideoReader, times):
        if reader.path == Path(path):
            release.wait(10)
        return real_frames_at(reader, times)

    monkeypatch.setattr(VideoReader, "frames_at", frames_at)
    try:
        yield
    finally:
        release.set()
