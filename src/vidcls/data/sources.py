"""What a dataset is made of: videos with their labels (and optional spans), class lists, label → index.

The readers of each published layout are in :mod:`vidcls.data.formats`; they all produce
:class:`LabelledVideo` (labels as the annotation names them), which :func:`resolve_labels` turns into
the :class:`VideoSample` (label as a class index) that the dataset reads.

A multi-label video carries a tuple of labels (possibly empty: a negative, a valid example of no
class), and its sample a tuple of indices: list files write them in one field separated by ``;``
(:mod:`vidcls.data.formats.lists`), a multi-label format gives them as read (Charades' actions).

Every problem is reported as a :class:`~vidcls.errors.DatasetError` whose one-line message names the folder,
file or line at fault, so a user can fix their data before any training starts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from vidcls.errors import DatasetError

VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv"})
SPLITS = ("train", "val", "test")
LABEL_SEPARATOR = ";"  # between the labels of a multi-label video, in one field
Label = str | tuple[str, ...]  # as annotated: a class name or index; a tuple for a multi-label video
_INDEXED_NAME = re.compile(r"(\d+)\s+(\S.*)")  # "1 ApplyEyeMakeup": UCF101's classInd.txt form

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Span:
    """The labelled part of a video: ``[start, end)`` in seconds, or in frames when ``in_frames``.

    Frame ranges (Diving-48's) stay frames until the video is opened: their seconds need the
    video's frame rate, which only its header knows, and probing every file up front would cost
    as much as a verify run.
    """

    start: float
    end: float
    in_frames: bool = False

    def seconds(self, fps: float) -> tuple[float, float]:
        """``(start, end)`` in seconds from the video's first frame."""
        return (self.start / fps, self.end / fps) if self.in_frames else (self.start, self.end)


@dataclass(frozen=True)
class LabelledVideo:
    """A video file and its label as written by the user (class name, or an index in digits)."""

    path: Path
    label: Label
    origin: str  # where the pair was found, e.g. "lists/train.csv:12", for error messages
    span: Span | None = None


@dataclass(frozen=True)
class VideoSample:
    """A video file (or a span of one) and its class index, or its class indices (a multi-label video; none: a
    negative): what the dataset reads."""

    path: Path
    label: int | tuple[int, ...]
    span: Span | None = None


def is_video(path: Path) -> bool:
    """True for a regular file whose extension is a known video container."""
    return path.suffix.lower() in VIDEO_EXTENSIONS and path.is_file()


def existing(videos: Sequence[LabelledVideo], allow_missing: bool = False) -> list[LabelledVideo]:
    """The videos whose file exists; a missing one is an error naming its line, unless ``allow_missing``.

    With ``allow_missing`` (a partial download), missing videos are skipped and their number logged.
    """
    found = [video for video in videos if video.path.is_file()]
    if len(found) < len(videos):
        first = next(video for video in videos if not video.path.is_file())
        if not allow_missing:
            raise DatasetError(f"{first.origin}: video not found: {first.path} (--data.allow_missing skips such videos)")
        log.warning("%s: skipped %d missing video(s) of %d", first.origin.rsplit(":", 1)[0], len(videos) - len(found),
                    len(videos))
    return found


def read_lines(path: Path) -> list[str]:
    """A text annotation file's lines (a byte-order mark dropped, CRLF or LF), or one line saying it is not UTF-8 text."""
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 text (byte {error.start})") from None


def read_class_index(path: str | Path) -> tuple[list[str], int]:
    """The class names of a classes file in index order, and the index of the first (0 or 1).

    A classes file has one name a line (index = line order, from 0), or ``index name`` lines
    (UCF101's ``classInd.txt``: ``1 ApplyEyeMakeup``), whose indices must run from 0 or 1 without a gap.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such classes file")
    lines = [line.strip() for line in read_lines(path)]
    lines = [line for line in lines if line]
    if not lines:
        raise DatasetError(f"{path}: classes file is empty")
    indexed = [_INDEXED_NAME.fullmatch(line) for line in lines]
    first = 0
    if all(indexed):
        numbered = sorted((int(match[1]), match[2].strip()) for match in indexed)
        first = numbered[0][0]
        if first not in (0, 1) or [i for i, _ in numbered] != list(range(first, first + len(numbered))):
            raise DatasetError(f"{path}: 'index name' lines must number the classes from 0 or 1 without a gap")
        lines = [name for _, name in numbered]
    if len(set(lines)) != len(lines):
        raise DatasetError(f"{path}: classes file repeats a name")
    return lines, first


def read_classes_file(path: str | Path) -> list[str]:
    """Class names in index order, from one name a line or ``index name`` lines (see :func:`read_class_index`)."""
    return read_class_index(path)[0]


def infer_classes(videos: Sequence[LabelledVideo]) -> list[str]:
    """The class list, in index order: sorted names, or ``0..max`` when every label is an index.

    Index labels that do not start at 0, or leave an index without a video, are refused: they are
    almost always a 1-based list (UCF101's) read without its class names, and training on them
    would silently learn a class no video has and name every class by a number.
    """
    labels = {label for v in videos for label in _each(v.label)}
    if not (labels and all(label.isdigit() for label in labels)):
        return sorted(labels)
    indices = sorted({int(label) for label in labels})
    unused = sorted(set(range(indices[-1] + 1)) - set(indices))
    if unused:
        raise DatasetError(f"{_source(videos)}: labels are class indices, but index {unused[0]} has no video"
                           f"{' (they start at ' + str(indices[0]) + ', not 0)' if indices[0] else ''}: {NAME_THE_CLASSES}")
    return [str(i) for i in range(indices[-1] + 1)]


# the cure for index labels that are not 0-based indices of the classes (UCF101's lists count from 1)
NAME_THE_CLASSES = ("give the class names (--data.classes FILE: one name a line, or 'index name' lines as UCF101's"
                    " classInd.txt), or read a published set with its own reader (--data.dataset ucf101)")


def _source(videos: Sequence[LabelledVideo]) -> str:
    return videos[0].origin.rsplit(":", 1)[0]


def resolve_labels(videos: Sequence[LabelledVideo], classes: Sequence[str]) -> list[VideoSample]:
    """Map each label to its class index (a multi-label video's each); a label that is neither a name nor a valid index is an error."""
    index_of = {name: i for i, name in enumerate(classes)}
    indices = {int(label) for v in videos for label in _each(v.label) if label.isdigit() and label not in index_of}
    if indices and 0 not in indices and max(indices) == len(classes):  # 1..N for N named classes: counted from 1
        raise DatasetError(f"{_source(videos)}: labels are class indices counted from 1 ({min(indices)}..{max(indices)}"
                           f" for {len(classes)} classes), not from 0: {NAME_THE_CLASSES}")

    def index(label: str, origin: str) -> int:
        if label in index_of:
            return index_of[label]
        if label.isdigit() and int(label) < len(classes):
            return int(label)
        raise DatasetError(f"{origin}: unknown label {label!r} ({len(classes)} known classes)")

    return [VideoSample(video.path, tuple(index(label, video.origin) for label in video.label)
                        if isinstance(video.label, tuple) else index(video.label, video.origin), video.span)
            for video in videos]


def split_labels(field: str) -> tuple[str, ...]:
    """A multi-label video's labels from one field: ``a;b`` → ``("a", "b")``; blank parts are none (``;`` is a negative)."""
    return tuple(part.strip() for part in field.split(LABEL_SEPARATOR) if part.strip())


def label_field(label: Label) -> str:
    """A label as one field of a list file, read back the same: a multi-label video's joined by ``;`` (a negative: ``;``)."""
    return (LABEL_SEPARATOR.join(label) or LABEL_SEPARATOR) if isinstance(label, tuple) else label


def has_label_sets(videos: Iterable[LabelledVideo]) -> bool:
    """True when the videos are multi-label ones (their labels are tuples): their data needs the multi-label task."""
    return any(isinstance(video.label, tuple) for video in videos)


def _each(label: Label) -> tuple[str, ...]:
    return label if isinstance(label, tuple) else (label,)


def relabel(videos: Sequence[LabelledVideo], names: Sequence[str], first: int) -> list[LabelledVideo]:
    """Index labels (counted from ``first``) replaced by the class names they stand for; names stay."""

    def name(label: str, origin: str) -> str:
        if not label.isdigit():
            return label
        index = int(label) - first
        if not 0 <= index < len(names):
            raise DatasetError(f"{origin}: class index {label} is not in the classes file ({first}..{first + len(names) - 1})")
        return names[index]

    return [replace(video, label=tuple(name(label, video.origin) for label in video.label)
                    if isinstance(video.label, tuple) else name(video.label, video.origin)) for video in videos]
