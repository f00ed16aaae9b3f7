"""Fixtures of the dataset-tool tests: a local HTTP server that yt-dlp downloads from (never the internet)."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


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


@pytest.fixture
def server(tmp_path: Path):
    """A local server for yt-dlp: ``.root`` (``<id>.mp4`` files), ``.url`` (the ``--url-template``), ``.requests``, ``.script``."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    httpd.root, httpd.requests, httpd.script = root, [], {}
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/{{youtube_id}}.mp4"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
