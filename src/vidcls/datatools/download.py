"""Download Kinetics clips with yt-dlp (as a library), in parallel, resumably, politely.

Each clip is fetched as a section: yt-dlp hands ``[time_start, time_end]`` to FFmpeg, which
reads only that part of the source and re-encodes around the cuts (``force_keyframes_at_cuts``)
so the clip starts on the right frame. That works for YouTube and for any server whose MP4 has
its index at the front (``-movflags +faststart``). When FFmpeg cannot read a section (an MP4
with the index at the end, from a server without byte ranges such as Python's ``http.server``),
the whole video is downloaded and the segment cut with the ``ffmpeg`` CLI, re-encoding so the
cut is frame-accurate (a stream copy would start at the keyframe before ``time_start``).

Every download goes to a hidden ``.<name>.partial/`` folder beside its clip and is renamed into
place only once it decodes, so a file under the final name is always a finished clip. Videos
that are gone (404, private, removed) are ``unavailable``: normal for Kinetics, never fatal.
HTTP 429 makes every worker pause, the pause doubling per retry up to a cap.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import yt_dlp
from yt_dlp.utils import DownloadError, download_range_func

from vidcls.data.decoding import VideoReader
from vidcls.datatools.kinetics.clips import Clip
from vidcls.datatools.kinetics.plan import KineticsPlan
from vidcls.datatools.kinetics.run import recording
from vidcls.errors import VidclsError

YOUTUBE_URL = "https://www.youtube.com/watch?v={youtube_id}"
# Kinetics models train on frames with a short side of 256-320 px: 480p keeps headroom at a
# fraction of the bytes of HD. "b" last: sources that do not say their height (plain files).
DEFAULT_FORMAT = "bv*[height<=480]+ba/b[height<=480]/b"
FAILED = ("failed", "unavailable")
_UNAVAILABLE = re.compile(
    r"video unavailable|video is (?:private|unavailable)|private video|has been removed|been terminated|"
    r"no longer available|not available in your country|confirm your age|members.only|HTTP Error (?:404|410)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DownloadConfig:
    """Where clips come from and how hard to try."""

    url_template: str = YOUTUBE_URL  # "{youtube_id}" is replaced; tests point it at a local server
    jobs: int = 4
    retry_failed: bool = False  # also retry clips whose last attempt was failed or unavailable
    format: str = DEFAULT_FORMAT
    rate_limit_tries: int = 5
    backoff_base: float = 10.0  # seconds after the first 429; YouTube's limits last minutes
    backoff_cap: float = 300.0
    socket_timeout: float = 30.0


class Backoff:
    """A pause shared by all workers: a rate limit is on the client, not on one video."""

    def __init__(self, base: float, cap: float):
        self.base, self.cap = base, cap
        self._resume_at = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        while (delay := self._resume_at - time.monotonic()) > 0:
            time.sleep(delay)

    def penalise(self, attempt: int) -> None:
        with self._lock:
            delay = min(self.cap, self.base * 2**attempt)
            self._resume_at = max(self._resume_at, time.monotonic() + delay)


def download_clips(
    plan: KineticsPlan, config: DownloadConfig = DownloadConfig(), progress: Callable[[int, int], None] | None = None
) -> Counter[str]:
    """Download the plan's clips that are not finished (nor failed before, unless ``retry_failed``).

    Returns how many clips have each status; the details are in ``DIR/download_report.csv``.
    """
    if "{youtube_id}" not in config.url_template:
        raise VidclsError(f"url template {config.url_template!r} must contain {{youtube_id}}")
    with recording(plan) as report:
        todo = [
            clip
            for clip in plan.clips
            if not plan.is_finished(clip) and (config.retry_failed or report.status(clip) not in FAILED)
        ]
        done, total = len(plan.clips) - len(todo), len(plan.clips)
        if progress:
            progress(done, total)
        backoff = Backoff(config.backoff_base, config.backoff_cap)
        with ThreadPoolExecutor(max_workers=max(config.jobs, 1)) as pool:
            futures = {pool.submit(download_clip, clip, plan.path(clip), config, backoff): clip for clip in todo}
            try:
                for future in as_completed(futures):
                    report.record(futures[future], *future.result())
                    done += 1
                    if progress:
                        progress(done, total)
            except BaseException:
                pool.shutdown(cancel_futures=True)  # finish the clips under way, start no more
                raise
    return report.counts()


def download_clip(clip: Clip, dest: Path, config: DownloadConfig, backoff: Backoff) -> tuple[str, str]:
    """Fetch one clip to ``dest``; returns (status, one-line error). Never raises for a bad video."""
    url = config.url_template.format(youtube_id=clip.youtube_id)
    for attempt in range(config.rate_limit_tries):
        backoff.wait()
        status, error = _attempt(url, clip, dest, config)
        if status != "rate-limited":
            return status, error
        backoff.penalise(attempt)
    return "failed", f"rate limited {config.rate_limit_tries} times: {error}"


def _attempt(url: str, clip: Clip, dest: Path, config: DownloadConfig) -> tuple[str, str]:
    work = dest.with_name(f".{dest.stem}.partial")
    shutil.rmtree(work, ignore_errors=True)  # left by a run that was killed
    work.mkdir(parents=True)
    try:
        try:
            got = _fetch(url, work, config, (clip.start, clip.end))
        except DownloadError as error:
            if "ffmpeg exited" not in str(error):
                raise
            got = _cut(_fetch(url, work, config, None), work / "cut.mp4", clip.start, clip.end)
        VideoReader(got)  # raises VideoReadError unless the file decodes to at least one frame
        os.replace(got, dest)
        return "downloaded", ""
    except DownloadError as error:
        return _classify(error)
    except Exception as error:  # a bad clip is reported, never fatal
        return "failed", _one_line(error)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _fetch(url: str, work: Path, config: DownloadConfig, section: tuple[float, float] | None) -> Path:
    options = {
        "format": config.format,
        "outtmpl": str(work / ("section" if section else "whole")) + ".%(ext)s",
        "merge_output_format": "mp4",
        "postprocessors": [{"key": "FFmpegVideoRemuxer", "preferedformat": "mp4"}],
        "noplaylist": True,
        "cachedir": False,
        "socket_timeout": config.socket_timeout,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "color": "no_color",
        "logger": _Silent(),
    }
    if section:
        options |= {"download_ranges": download_range_func(None, [section]), "force_keyframes_at_cuts": True}
    with yt_dlp.YoutubeDL(options) as ydl:
        info = ydl.extract_info(url, download=True)
    return Path(info["requested_downloads"][0]["filepath"])


def _cut(source: Path, dest: Path, start: float, end: float) -> Path:
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", f"{start}", "-i", str(source), "-t", f"{end - start}"]
    command += ["-map", "0:v:0", "-map", "0:a:0?", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    result = subprocess.run([*command, "-c:a", "aac", str(dest)], capture_output=True, text=True)
    if result.returncode != 0:
        detail = " ".join(result.stderr.split()) or f"exit status {result.returncode}"
        raise RuntimeError(f"ffmpeg could not cut the clip: {detail}")
    return dest


def _classify(error: DownloadError) -> tuple[str, str]:
    message = _one_line(error)
    cause = error.exc_info[1] if error.exc_info else None
    status = getattr(cause, "status", None)
    if status == 429 or "HTTP Error 429" in message or "not a bot" in message:
        return "rate-limited", message
    if status in (404, 410) or _UNAVAILABLE.search(message):
        return "unavailable", message
    return "failed", message


def _one_line(error: BaseException) -> str:
    """yt-dlp and FFmpeg messages span lines and carry colour codes; a report cell wants one line."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return re.sub(r"^ERROR:\s*", "", " ".join(lines)) or type(error).__name__


class _Silent:
    """yt-dlp prints errors even when quiet; ours go to the report instead."""

    def debug(self, message: str) -> None:
        pass

    warning = error = debug
