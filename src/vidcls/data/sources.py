"""Where videos are: find (path, label) pairs in class folders or list files, and map labels to indices.

A multi-label video carries a tuple of labels (possibly empty: a negative, a valid example of no
class): in a list file, its label field holds them separated by ``;`` (``path a;b``; ``path ;`` is a
negative), or a CSV names a ``labels`` column instead of ``label`` (``path,labels``, empty allowed).

Every problem is reported as a :class:`~vidcls.errors.DatasetError` whose one-line message names the folder,
file or line at fault, so a user can fix their data before any training starts.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vidcls.errors import DatasetError

VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv"})
SPLITS = ("train", "val", "test")
LABEL_SEPARATOR = ";"  # between the labels of a multi-label video, in one field
Label = str | tuple[str, ...]  # as written: a class name or index; a tuple for a multi-label video


@dataclass(frozen=True)
class LabelledVideo:
    """A video file and its label as written by the user (class name, or an index in digits), or its labels (a tuple)."""

    path: Path
    label: Label
    origin: str  # where the pair was found, e.g. "lists/train.csv:12", for error messages


@dataclass(frozen=True)
class VideoSample:
    """A video file and its class index, or its class indices (a multi-label video; none: a negative): what the dataset reads."""

    path: Path
    label: int | tuple[int, ...]


def is_video(path: Path) -> bool:
    """True for a regular file whose extension is a known video container."""
    return path.suffix.lower() in VIDEO_EXTENSIONS and path.is_file()


def scan_class_folders(split_dir: str | Path) -> list[LabelledVideo]:
    """List ``split_dir/<class>/<video>`` files; the folder name is the label."""
    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        raise DatasetError(f"{split_dir}: no such folder")
    class_dirs = sorted(p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DatasetError(f"{split_dir}: no class folders (expected {split_dir}/<class>/<video>)")
    videos: list[LabelledVideo] = []
    for class_dir in class_dirs:
        files = sorted(p for p in class_dir.iterdir() if is_video(p))
        if not files:
            raise DatasetError(f"{class_dir}: class folder has no videos ({', '.join(sorted(VIDEO_EXTENSIONS))})")
        videos += [LabelledVideo(f, class_dir.name, str(class_dir)) for f in files]
    return videos


def read_list_file(list_file: str | Path, allow_empty: bool = False) -> list[LabelledVideo]:
    """Read a list of videos: ``path label`` lines, a CSV with a ``path,label`` (or ``path,labels``) header, or a manifest.

    A label field with ``;`` in it, and every field of a ``labels`` column, is a multi-label video's
    labels (a tuple; empty: a negative).

    A manifest (a CSV with an ``ok`` column, written by ``vidcls data verify``) lists only the
    videos that probed ok; the bad ones are skipped and their number logged. Paths are relative
    to the list file's folder unless absolute. Every listed file must exist. A list naming no
    video is an error, unless ``allow_empty`` (a shard's list, whose share may be empty).
    """
    list_file = Path(list_file)
    if not list_file.is_file():
        raise DatasetError(f"{list_file}: no such list file")
    base = list_file.parent
    if is_manifest(list_file):
        rows = _manifest_rows(list_file)
    elif list_file.suffix.lower() == ".csv":
        rows = _path_label_rows(list_file)
    else:
        rows = _space_rows(list_file)
    videos = []
    for line_no, path_text, label in rows:
        origin = f"{list_file}:{line_no}"
        if not path_text or not label and not isinstance(label, tuple):
            raise DatasetError(f"{origin}: expected a path and a label")
        path = Path(path_text) if Path(path_text).is_absolute() else base / path_text
        if not path.is_file():
            raise DatasetError(f"{origin}: video not found: {path}")
        videos.append(LabelledVideo(path, label, origin))
    if not videos and not allow_empty:
        raise DatasetError(f"{list_file}: list file names no videos")
    return videos


def _space_rows(list_file: Path) -> Iterable[tuple[int, str, Label]]:
    """MMAction2/PyTorchVideo style: ``path label`` per line; the last field is the label."""
    for line_no, line in enumerate(list_file.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.rsplit(maxsplit=1)
        label = parts[1] if len(parts) == 2 else ""
        yield line_no, parts[0], split_labels(label) if LABEL_SEPARATOR in label else label


def split_labels(field: str) -> tuple[str, ...]:
    """A multi-label video's labels from one field: ``a;b`` → ``("a", "b")``; blank parts are none (``;`` is a negative)."""
    return tuple(part.strip() for part in field.split(LABEL_SEPARATOR) if part.strip())


def _csv_rows(list_file: Path, required: tuple[str, ...] = ("path", "label")) -> Iterable[tuple[int, dict]]:
    with list_file.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(required) - set(reader.fieldnames or ())
        if missing:
            names = ", ".join(f"'{name}'" for name in required)
            raise DatasetError(f"{list_file}:1: CSV header must name {names} (missing {sorted(missing)})")
        for row in reader:
            yield reader.line_num, {key: (value or "").strip() for key, value in row.items()}


def _path_label_rows(list_file: Path) -> Iterable[tuple[int, str, Label]]:
    with list_file.open(newline="", encoding="utf-8") as handle:
        multi_label = "labels" in next(csv.reader(handle), [])
    for line_no, row in _csv_rows(list_file, ("path", "labels" if multi_label else "label")):
        yield line_no, row["path"], split_labels(row["labels"]) if multi_label else row["label"]


def _manifest_rows(manifest: Path) -> Iterable[tuple[int, str, str]]:
    bad = 0
    for line_no, row in _csv_rows(manifest, ("path", "label", "ok")):
        if row["ok"].lower() == "true":
            yield line_no, row["path"], row["label"]
        else:
            bad += 1
    if bad:
        logging.getLogger(__name__).warning("%s: skipped %d bad video(s) (ok=false)", manifest, bad)


def is_manifest(path: str | Path) -> bool:
    """True for a CSV whose header has an ``ok`` column: a manifest from ``vidcls data verify``."""
    path = Path(path)
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open(newline="", encoding="utf-8") as handle:
        return "ok" in next(csv.reader(handle), [])


def read_classes_file(path: str | Path) -> list[str]:
    """One class name per line, in index order (blank lines ignored)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such classes file")
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not names:
        raise DatasetError(f"{path}: classes file is empty")
    if len(set(names)) != len(names):
        raise DatasetError(f"{path}: classes file repeats a name")
    return names


def infer_classes(videos: Sequence[LabelledVideo]) -> list[str]:
    """The class list, in index order: sorted names, or ``0..max`` when every label is an index."""
    labels = {label for v in videos for label in (v.label if isinstance(v.label, tuple) else (v.label,))}
    if labels and all(label.isdigit() for label in labels):
        return [str(i) for i in range(max(int(label) for label in labels) + 1)]
    return sorted(labels)


def resolve_labels(videos: Sequence[LabelledVideo], classes: Sequence[str]) -> list[VideoSample]:
    """Map each label to its class index; a label that is neither a name nor a valid index is an error."""
    index_of = {name: i for i, name in enumerate(classes)}

    def index(label: str, origin: str) -> int:
        if label in index_of:
            return index_of[label]
        if label.isdigit() and int(label) < len(classes):
            return int(label)
        raise DatasetError(f"{origin}: unknown label {label!r} ({len(classes)} known classes)")

    return [VideoSample(video.path, tuple(index(label, video.origin) for label in video.label)
                        if isinstance(video.label, tuple) else index(video.label, video.origin))
            for video in videos]


def has_label_sets(videos: Iterable[LabelledVideo]) -> bool:
    """True when the videos are multi-label ones (their labels are tuples): their data needs the multi-label task."""
    return any(isinstance(video.label, tuple) for video in videos)
