"""Re-encode a dataset for fast random access (``vidcls data prepare``).

Reading a random clip costs decoding from the keyframe before it, so files straight from
YouTube (a keyframe every few seconds) make training decode-bound. Re-encoding with a keyframe
every ``gop`` frames, at the short side the model crops from (256), without audio, makes a
random 2 s / 8-frame clip about twice as fast to read. The price is disk. Measured on two 10 s
340x256 clips (28 and 30 fps), CRF 23, CPU time of ``VideoReader(path).frames_at(clip)`` on one
thread, as in a DataLoader worker (mean of 150-200 random clips):

==============  ==============  ==============
keyframes       clip 1          clip 2
==============  ==============  ==============
x264 default    363 KiB, 29 ms  731 KiB, 52 ms
every 32        410 KiB, 18 ms  765 KiB, 24 ms
every 16        466 KiB, 16 ms  805 KiB, 22 ms
every 8         565 KiB, 16 ms  886 KiB, 20 ms
==============  ==============  ==============

Every 16 frames keeps nearly all of the gain of 8 for half its extra bytes: the default.
x264's ``-tune fastdecode`` (no CABAC, no deblocking) then halves decoding again: on 32
Kinetics-like clips at GOP 16, 17.8 → 8.2 ms a clip and 47 → 76 clips/s through the training
loader, for 8 % more bytes and 0.16 dB less PSNR (benchmarks/RESULTS.md): also a default
(``--tune none`` turns it off).
The tool mirrors the layout (class folders, or a list file whose paths it rewrites), writes
each file under a temporary name and renames it when FFmpeg succeeds, and skips outputs newer
than their input, so an interrupted run resumes where it stopped (to change settings, start
from an empty DST). A shard (:mod:`vidcls.datatools.shards`, by each output's path under DST)
re-encodes its share and writes its share of a list to ``DST/<list>.I-of-N.<ext>``;
:func:`merge_lists` writes the whole list from them.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import av

from vidcls.data.formats.lists import read_list_file
from vidcls.data.sources import LabelledVideo, is_video, label_field
from vidcls.datatools.shards import Shard, check_complete, select, shard_file, shard_files
from vidcls.errors import DatasetError, VidclsError, VideoReadError
from vidcls.io import atomic_writer, partial_path


@dataclass(frozen=True)
class PrepareConfig:
    """How to re-encode; the defaults are the measured trade-off above."""

    short_side: int = 256  # the train preset scales the short side to 256-320, then crops 224
    fps: float | None = None  # None keeps the source rate
    gop: int = 16  # frames between keyframes
    crf: int = 23  # x264's default quality; lower is better and bigger
    preset: str = "veryfast"  # encode time matters once, size and decode speed at every epoch
    tune: str | None = "fastdecode"  # x264 tune; fastdecode halves decode time for ~8 % more bytes
    jobs: int = os.cpu_count() or 1  # FFmpeg processes, one thread each


@dataclass
class PrepareResult:
    """What a run did; sizes cover every file of the dataset, also those done by earlier runs."""

    encoded: int = 0
    skipped: int = 0  # outputs already newer than their input
    failed: list[tuple[Path, str]] = field(default_factory=list)  # (input, one-line reason)
    bytes_before: int = 0
    bytes_after: int = 0
    list_file: Path | None = None  # the rewritten list, when the input was a list file


def prepare_dataset(
    src: str | Path,
    dst: str | Path,
    config: PrepareConfig = PrepareConfig(),
    progress: Callable[[int, int], None] | None = None,
    shard: Shard | None = None,
) -> PrepareResult:
    """Re-encode every video of ``src`` (a dataset folder or a list file) to the same place under ``dst``.

    A file FFmpeg cannot read is reported in ``failed`` and left out of a rewritten list; it
    does not stop the others. With ``shard``, only that shard's videos.
    """
    src, dst = Path(src), Path(dst)
    if shutil.which("ffmpeg") is None:
        raise VidclsError("ffmpeg not found on PATH (install FFmpeg)")
    listed, pairs = _plan(src, dst)
    pairs = select(pairs, lambda pair: pair[1].relative_to(dst).as_posix(), shard)
    todo = [(source, out) for source, out in pairs if not _up_to_date(source, out)]
    result = PrepareResult(skipped=len(pairs) - len(todo))
    done = result.skipped
    if progress:
        progress(done, len(pairs))
    with ThreadPoolExecutor(max_workers=max(config.jobs, 1)) as pool:
        futures = {pool.submit(encode_video, source, out, config): source for source, out in todo}
        try:
            for future in as_completed(futures):
                try:
                    future.result()
                    result.encoded += 1
                except VideoReadError as error:
                    result.failed.append((futures[future], error.reason))
                done += 1
                if progress:
                    progress(done, len(pairs))
        except BaseException:
            pool.shutdown(cancel_futures=True)  # finish the files under way, start no more
            raise
    failed = {source for source, _ in result.failed}
    result.failed.sort()
    finished = [(source, out) for source, out in pairs if source not in failed]
    result.bytes_before = sum(source.stat().st_size for source, _ in pairs)
    result.bytes_after = sum(out.stat().st_size for _, out in finished)
    if listed:
        outputs = dict(finished)
        kept = [(outputs[video.path].relative_to(dst), label_field(video.label)) for video in listed if video.path in outputs]
        result.list_file = _write_list(shard_file(dst / src.name, shard), kept)
    return result


def merge_lists(src: str | Path, dst: str | Path) -> tuple[Path, int]:
    """Write ``DST/<list name>`` as one unsharded run rewrites it, from the shards' lists; encodes nothing.

    Returns the list and how many listed videos it leaves out (they failed in their shard).
    Refuses with one line naming the shards with no list (not run, or not finished: a shard
    writes its list at its end) and those whose list names videos of another shard or list.
    """
    src, dst = Path(src), Path(dst)
    listed, pairs = _plan(src, dst)
    if listed is None:
        raise DatasetError(f"{src}: a folder: the shards' outputs are in place already, no list to merge")
    target = dst / src.name
    shards = shard_files(target)
    count = next(iter(shards)).count
    owners = {out: Shard.of(out.relative_to(dst).as_posix(), count) for _, out in pairs}
    done, other = set(), []
    for shard, path in shards.items():
        named = {video.path for video in read_list_file(path, allow_empty=True)} if path else set()
        if any(owners.get(out) != shard for out in named):
            other.append(shard)
        done |= named
    missing = [shard for shard, path in shards.items() if path is None]
    check_complete(dst, {"with no list": missing, f"that prepared another list than {src}": other})
    outputs = dict(pairs)
    kept = [(outputs[video.path].relative_to(dst), label_field(video.label)) for video in listed if outputs[video.path] in done]
    return _write_list(target, kept), len(listed) - len(kept)


def _plan(src: Path, dst: Path) -> tuple[list[LabelledVideo] | None, list[tuple[Path, Path]]]:
    """The videos of a list file (None for a folder) and every (input, output) pair."""
    listed = read_list_file(src) if src.is_file() else None
    if not listed:
        return None, _pairs(_folder_videos(src, dst), src, dst)
    if (dst / src.name).resolve() == src.resolve():
        raise DatasetError(f"{src}: the rewritten list would overwrite it; choose another output folder")
    # the folder that holds the list and all its videos: DIR for Kinetics' DIR/train.csv
    base = os.path.commonpath([os.path.abspath(src.parent), *(os.path.abspath(v.path) for v in listed)])
    return listed, _pairs([video.path for video in listed], base, dst)


def encode_video(src: Path, out: Path, config: PrepareConfig = PrepareConfig()) -> None:
    """Re-encode one video to ``out`` (H.264 MP4, no audio); raises :class:`VideoReadError` naming ``src``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(out)  # hidden and renamed when done: never taken as finished
    filters = ([f"fps={config.fps:g}"] if config.fps else []) + [_scale_filter(config.short_side)]
    command = ["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-y", "-filter_threads", "1", "-threads", "1"]
    command += ["-i", str(src), "-map", "0:v:0", "-an", "-vf", ",".join(filters), "-c:v", "libx264"]
    command += ["-preset", config.preset, "-crf", str(config.crf), "-g", str(config.gop), "-pix_fmt", "yuv420p"]
    if config.tune:
        command += ["-tune", config.tune]
    command += ["-movflags", "+faststart", "-threads", "1", str(partial)]
    completed = subprocess.run(command, capture_output=True, text=True, errors="replace")
    if completed.returncode != 0:
        partial.unlink(missing_ok=True)
        lines = [line.strip() for line in completed.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"ffmpeg exit status {completed.returncode}"
        raise VideoReadError.for_file(src, reason.removeprefix(f"{src}: "))
    os.replace(partial, out)


def keyframe_interval(path: str | Path, max_packets: int = 3000) -> float:
    """Mean frames per keyframe in a video's first ``max_packets`` packets, read from the container (nothing decoded).

    What random access costs: a clip's frames are decoded from the keyframe before each, so files
    with a keyframe every 250 frames read clips far slower than ``prepare``'s every 16.
    """
    frames = keyframes = 0
    try:
        with av.open(str(path)) as container:
            for packet in container.demux(container.streams.video[0]):
                if packet.size:  # the demuxer ends with an empty flush packet
                    frames += 1
                    keyframes += packet.is_keyframe
                    if frames == max_packets:
                        break
    except (av.FFmpegError, IndexError) as error:  # IndexError: no video stream
        raise VideoReadError.for_file(path, str(error) or "no video stream") from error
    if not keyframes:
        raise VideoReadError.for_file(path, "no keyframe in the video stream")
    return frames / keyframes


def _scale_filter(short_side: int) -> str:
    """Short side to ``short_side`` keeping the aspect ratio; never upscale; even sides (yuv420p needs them)."""
    short = f"trunc(min({{}},{short_side})/2)*2"
    width = f"if(lte(iw,ih),{short.format('iw')},-2)"
    height = f"if(lte(iw,ih),-2,{short.format('ih')})"
    return f"scale=w='{width}':h='{height}'"


def _folder_videos(src: Path, dst: Path) -> list[Path]:
    """Every video under ``src`` at any depth, but hidden files (partial outputs) and anything under ``dst``."""
    if not src.is_dir():
        raise DatasetError(f"{src}: no such folder or list file")
    outputs = Path(os.path.abspath(dst))
    if outputs == Path(os.path.abspath(src)):
        raise DatasetError(f"{dst}: output folder must differ from the input folder")
    videos = [
        path
        for path in sorted(src.rglob("*"))
        if is_video(path)
        and not any(part.startswith(".") for part in path.relative_to(src).parts)
        and outputs not in Path(os.path.abspath(path)).parents  # dst inside src: earlier outputs are no inputs
    ]
    if not videos:
        raise DatasetError(f"{src}: no videos found")
    return videos


def _pairs(inputs: list[Path], base: str | Path, dst: Path) -> list[tuple[Path, Path]]:
    """(input, output): the input's path relative to ``base``, under ``dst``, as .mp4; no output may be an input."""
    sources: dict[Path, Path] = {}
    for path in dict.fromkeys(inputs):  # a list may name a video twice
        out = (dst / os.path.relpath(os.path.abspath(path), base)).with_suffix(".mp4")
        if os.path.abspath(out) == os.path.abspath(path):
            raise DatasetError(f"{path}: its output would overwrite it; choose another output folder")
        if out in sources:
            raise DatasetError(f"{path}: same output as {sources[out]} ({out}); rename one")
        sources[out] = path
    return [(path, out) for out, path in sources.items()]


def _up_to_date(src: Path, out: Path) -> bool:
    try:
        return out.stat().st_mtime >= src.stat().st_mtime
    except FileNotFoundError:
        return False


def _write_list(path: Path, rows: list[tuple[Path, str]]) -> Path:
    """The list in its input's format: a ``path,label`` CSV or ``path label`` lines; never half written."""
    with atomic_writer(path, newline="") as handle:
        if path.suffix.lower() == ".csv":
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(("path", "label"))
            writer.writerows((out.as_posix(), label) for out, label in rows)
        else:
            handle.writelines(f"{out.as_posix()} {label}\n" for out, label in rows)
    return path


def format_size(num_bytes: int) -> str:
    """Bytes in the largest unit that keeps a number >= 1, for the before/after report."""
    size = float(num_bytes)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000:
            return f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"
