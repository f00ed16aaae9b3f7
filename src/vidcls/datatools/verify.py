"""Probe every video of a dataset before training on it (``vidcls data verify``).

A video is good when it opens, its frame size and duration are within bounds (read from the
header, before decoding), and its first and last frames decode: that catches empty and foreign
files, a missing index, and files cut short (their last frame is not there). Damage in the
middle of a file shows only when every frame is decoded (``full=True``, ``--full``). The
result is a manifest CSV, one row per video; :func:`vidcls.data.formats.lists.read_list_file` reads
it back, skipping the bad rows. A shard of the listing (:mod:`vidcls.datatools.shards`, by each
video's path relative to the dataset) writes ``manifest.I-of-N.csv``; :func:`merge_manifests`
reads the N of them back as one run's probes.

Probes run in threads: torchcodec releases the GIL while FFmpeg decodes (2 threads probed 36
clips 1.75x faster than one), where each spawned process pays seconds to import torch. The
threads are daemons, so a file that hangs FFmpeg is reported as timed out and cannot keep the
command from exiting.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vidcls.data.formats.folders import scan_class_folders
from vidcls.data.formats.lists import read_list_file
from vidcls.data.info import DEFAULT_MAX_PIXELS, check_bounds
from vidcls.data.sources import SPLITS, LabelledVideo, is_video, label_field
from vidcls.datatools.shards import Shard, check_complete, select, shard_files
from vidcls.errors import DatasetError, VideoReadError
from vidcls.io import atomic_writer

if TYPE_CHECKING:
    from vidcls.data.decoding import VideoReader

MANIFEST_FIELDS = ("path", "label", "frames", "fps", "duration", "width", "height", "ok", "error")
DEFAULT_TIMEOUT = 60.0  # seconds per file; a good clip takes tens of milliseconds
DEFAULT_JOBS = os.cpu_count() or 1
FULL_DECODE_CHUNK = 16  # frames held at once when decoding a whole file


@dataclass(frozen=True)
class Probe:
    """One manifest row: what a video reported, or why it is bad (``error``)."""

    path: Path
    label: str
    frames: int | None = None
    fps: float | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class ProbeOptions:
    """How hard to look: frame size and duration limits (None: none), and whether to decode every frame."""

    max_pixels: int | None = DEFAULT_MAX_PIXELS
    max_duration: float | None = None
    full: bool = False


def probe_video(path: Path, label: str = "", options: ProbeOptions = ProbeOptions()) -> Probe:
    """Open ``path``, check its bounds and decode its first and last frames (all with ``full``); never raises for a bad file."""
    from vidcls.data.decoding import VideoReader  # torch and FFmpeg: imported once a file is probed, not for --help

    info = None
    try:
        with VideoReader(path) as reader:
            info = reader.info
            check_bounds(path, info, max_pixels=options.max_pixels, max_duration=options.max_duration)
            reader.frames_at([info.begin, info.end])  # the end is clamped to the last frame
            if options.full:
                _decode_every_frame(reader)
        error = ""
    except Exception as failure:  # VideoReadError, or whatever else a broken file provokes
        reason = failure.reason if isinstance(failure, VideoReadError) else str(failure)
        error = " ".join(reason.split()) or type(failure).__name__
    if info is None:
        return Probe(path, label, error=error)
    return Probe(path, label, info.num_frames, info.fps, info.duration, info.width, info.height, error)


def _decode_every_frame(reader: VideoReader) -> None:
    """Decode the frame at every frame time, a chunk at a time (bounded memory); raises at the first damage."""
    info = reader.info
    times = [info.begin + (i + 0.5) / info.fps for i in range(max(round(info.duration * info.fps), 1))]
    for first in range(0, len(times), FULL_DECODE_CHUNK):
        reader.frames_at(times[first : first + FULL_DECODE_CHUNK])


def find_videos(root_or_list: str | Path, shard: Shard | None = None) -> list[LabelledVideo]:
    """The videos of a list file, of a dataset root (its train/val/test class folders), or of one split folder.

    Videos lying directly in a split folder (Kinetics' unlabelled test clips) come with an empty
    label. With ``shard``, only that shard's videos, chosen by their paths relative to the folder
    (or to the list file's folder), so the split holds wherever the dataset is mounted.
    """
    base, videos = _listing(Path(root_or_list))
    return select(videos, _relative_key(base), shard)


def _listing(source: Path) -> tuple[Path, list[LabelledVideo]]:
    """The folder that video paths are relative to, and the videos."""
    if source.is_file():
        return source.parent, read_list_file(source)
    if not source.is_dir():
        raise DatasetError(f"{source}: no such folder or list file")
    split_dirs = [source / split for split in SPLITS if (source / split).is_dir()] or [source]
    videos = []
    for split_dir in split_dirs:
        loose = [LabelledVideo(path, "", str(split_dir)) for path in sorted(split_dir.iterdir()) if is_video(path)]
        only_loose = loose and not any(path.is_dir() for path in split_dir.iterdir())
        videos += loose if only_loose else loose + scan_class_folders(split_dir)
    return source, videos


def _relative_key(base: Path) -> Callable[[LabelledVideo], str]:
    """What decides a video's shard: its path relative to ``base``."""
    return lambda video: Path(os.path.relpath(video.path, base)).as_posix()


def probe_videos(
    videos: Sequence[LabelledVideo],
    jobs: int = DEFAULT_JOBS,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[int, int], None] | None = None,
    options: ProbeOptions = ProbeOptions(),
) -> list[Probe]:
    """Probe ``videos`` in ``jobs`` threads, in their order; a probe running over ``timeout`` s is bad."""
    finished: queue.SimpleQueue[tuple[int, Probe]] = queue.SimpleQueue()
    todo = iter(enumerate(videos))
    deadlines: dict[int, float] = {}  # index -> time by which its probe must finish
    probes: dict[int, Probe] = {}

    def start(index: int, video: LabelledVideo) -> None:
        deadlines[index] = time.monotonic() + timeout
        threading.Thread(target=_probe_into, args=(finished, index, video, options), daemon=True).start()

    for index, video in itertools.islice(todo, max(jobs, 1)):
        start(index, video)
    if progress:
        progress(0, len(videos))
    while deadlines:
        late = min(deadlines, key=deadlines.__getitem__)
        try:
            index, probe = finished.get(timeout=max(deadlines[late] - time.monotonic(), 0))
        except queue.Empty:  # the thread stays stuck in FFmpeg; a new one takes its place
            index, probe = late, Probe(videos[late].path, label_field(videos[late].label), error=f"timed out after {timeout:g} s")
        if deadlines.pop(index, None) is None:
            continue  # finished after being reported as timed out
        probes[index] = probe
        if progress:
            progress(len(probes), len(videos))
        for next_index, video in itertools.islice(todo, 1):
            start(next_index, video)
    return [probes[index] for index in range(len(videos))]


def _probe_into(finished: queue.SimpleQueue, index: int, video: LabelledVideo, options: ProbeOptions) -> None:
    finished.put((index, probe_video(video.path, label_field(video.label), options)))


def default_manifest(root_or_list: str | Path) -> Path:
    """``ROOT/manifest.csv`` for a folder, ``<list>_manifest.csv`` beside a list file."""
    source = Path(root_or_list)
    return source.with_name(f"{source.stem}_manifest.csv") if source.is_file() else source / "manifest.csv"


def write_manifest(probes: Sequence[Probe], manifest: str | Path) -> Path:
    """Write the rows; paths are relative to the manifest's folder when inside it, as in list files."""
    manifest = Path(manifest)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    base = Path(os.path.abspath(manifest.parent))
    with atomic_writer(manifest, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(MANIFEST_FIELDS)
        for p in probes:
            path = Path(os.path.abspath(p.path))
            shown = path.relative_to(base) if base in path.parents else path
            numbers = (p.frames, _number(p.fps), _number(p.duration), p.width, p.height)
            ok = "true" if p.ok else "false"
            writer.writerow((shown.as_posix(), p.label, *("" if n is None else n for n in numbers), ok, p.error))
    return manifest


def _number(value: float | None) -> str | None:
    return None if value is None else f"{value:.6g}"


def merge_manifests(root_or_list: str | Path, manifest: str | Path) -> list[Probe]:
    """The probes in the shards' ``manifest.I-of-N.csv`` files, in the order one unsharded run lists them.

    Refuses with one line naming the shards with no manifest (not run, or not finished: a shard
    writes its manifest at its end) and those that probed other videos than their share.
    """
    manifest = Path(manifest)
    shards = shard_files(manifest)
    base, videos = _listing(Path(root_or_list))
    key, count = _relative_key(base), next(iter(shards)).count
    shares: dict[Shard, Counter[tuple[str, str]]] = {shard: Counter() for shard in shards}
    for video in videos:
        shares[Shard.of(key(video), count)][_identity(video)] += 1
    probes, other = {}, []
    for shard, path in shards.items():
        found = _read_manifest(path) if path else []
        if path and Counter(map(_identity, found)) != shares[shard]:
            other.append(shard)
        probes.update((_identity(probe), probe) for probe in found)
    missing = [shard for shard, path in shards.items() if path is None]
    check_complete(manifest.parent, {"with no manifest": missing, f"that probed other videos than {root_or_list}": other})
    return [dataclasses.replace(probes[_identity(video)], path=video.path) for video in videos]


def _identity(video: LabelledVideo | Probe) -> tuple[str, str]:
    return os.path.abspath(video.path), label_field(video.label)


def _read_manifest(manifest: Path) -> list[Probe]:
    """A manifest's rows as probes again; its numbers come back as :func:`write_manifest` wrote them."""
    def number(text: str, kind: type) -> int | float | None:
        return kind(text) if text else None

    with manifest.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    try:
        return [
            Probe(manifest.parent / row["path"], row["label"], number(row["frames"], int), number(row["fps"], float),
                  number(row["duration"], float), number(row["width"], int), number(row["height"], int), row["error"])
            for row in rows
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise DatasetError(f"{manifest}: not a manifest written by vidcls data verify ({error})") from None


def summary(probes: Sequence[Probe], manifest: Path) -> dict:
    """The ``--json`` report: counts, the bad files with their reasons, and the manifest's path."""
    bad = [{"path": str(p.path), "error": p.error} for p in probes if not p.ok]
    ok = len(probes) - len(bad)
    return {"total": len(probes), "ok": ok, "bad": len(bad), "bad_files": bad, "manifest": str(manifest)}
