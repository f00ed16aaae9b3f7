"""Fixtures of the dataset tools' tests: source videos, a local HTTP server standing for YouTube, Kinetics CSVs."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers.videos import make_video

SOURCE_FPS = 25
KINETICS_HEADER = "label,youtube_id,time_start,time_end,split,is_cc"  # the official CSVs' header


@pytest.fixture(scope="session")
def source_fps() -> int:
    """The frame rate of the ``sources`` videos."""
    return SOURCE_FPS


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 12 s source video with a keyframe every 2.4 s (so cuts at whole seconds fall between
    keyframes), once with its index at the front (faststart) and once at the end."""
    folder = tmp_path_factory.mktemp("sources")
    return {
        kind: make_video(folder / f"{kind}.mp4", frames=12 * SOURCE_FPS, fps=SOURCE_FPS, size=(160, 120), pattern="testsrc",
                         keyframe_interval=60, faststart=kind == "faststart", options=("-preset", "ultrafast"))
        for kind in ("faststart", "index_at_end")
    }


class _Handler(SimpleHTTPRequestHandler):
    """Serves ``<root>/<id>.mp4``; ``server.script[id]`` lists error codes to answer first."""

    def do_GET(self) -> None:
        youtube_id = Path(self.path).stem
        self.server.requests.append(youtube_id)
        script = self.server.script.get(youtube_id)
        if script:
            self.send_error(script.pop(0))
            return
        try:
            super().do_GET()
        except (BrokenPipeError, ConnectionResetError):  # yt-dlp reads only the start of a probe
            pass

    def log_message(self, *args: object) -> None:
        pass


class VideoServer(ThreadingHTTPServer):
    """A local server standing for YouTube: ``url`` is a ``--url-template``; ``requests`` lists the ids asked for."""

    def __init__(self, root: Path):
        super().__init__(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
        self.root = root
        self.requests: list[str] = []
        self.script: dict[str, list[int]] = {}
        self.url = f"http://127.0.0.1:{self.server_address[1]}/{{youtube_id}}.mp4"

    def serve(self, source: Path, *youtube_ids: str) -> None:
        """Make ``source`` downloadable under each of ``youtube_ids``."""
        for youtube_id in youtube_ids:
            shutil.copy(source, self.root / f"{youtube_id}.mp4")


@pytest.fixture
def server(tmp_path: Path):
    root = tmp_path / "www"
    root.mkdir()
    httpd = VideoServer(root)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def kinetics_csv() -> Callable[..., Path]:
    """``kinetics_csv(path, lines, header=None) -> path``: a Kinetics annotation CSV (``header`` None: the official one)."""

    def write(path: Path, lines: list[str], header: str | None = None) -> Path:
        path.write_text("\n".join([header or KINETICS_HEADER, *lines]) + "\n", encoding="utf-8")
        return path

    return write
