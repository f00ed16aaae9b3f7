"""List files: ``path label [start end]`` lines, CSVs with a ``path,label[,start,end]`` header, verify's manifests.

Multi-label lists give a video several labels in one field, separated by ``;`` (``path a;b``;
``path ;`` is a negative, a video of no class), or name a ``labels`` column instead of ``label`` in
a CSV (``path,labels``; an empty field is a negative). Such videos carry a tuple of labels.

A split's list replaces whatever the dataset's own layout says for that split (class folders,
or a published set's split files). Paths are relative to the list file's folder unless absolute.
A line's optional ``start end`` (seconds) makes a labelled span of a longer video one sample.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from vidcls.data.formats.base import DatasetFormat
from vidcls.data.sources import (
    LABEL_SEPARATOR,
    Label,
    LabelledVideo,
    Span,
    existing,
    infer_classes,
    read_class_index,
    read_lines,
    relabel,
    split_labels,
)
from vidcls.errors import DatasetError

log = logging.getLogger(__name__)
Row = tuple[int, str, Label, str, str]  # line number, path, label(s), start, end ("" when absent)


def read_list_file(list_file: str | Path, allow_empty: bool = False, allow_missing: bool = False) -> list[LabelledVideo]:
    """Read a list of videos: ``path label [start end]`` lines, a CSV with a ``path,label`` (or ``path,labels``) header, or a manifest.

    A label field with ``;`` in it, and every field of a ``labels`` column, is a multi-label video's
    labels (a tuple; empty: a negative).

    A manifest (a CSV with an ``ok`` column, written by ``vidcls data verify``) lists only the
    videos that probed ok; the bad ones are skipped and their number logged. Every listed file
    must exist, unless ``allow_missing`` (then missing ones are skipped and counted). A list
    naming no video is an error, unless ``allow_empty`` (a shard's list, whose share may be empty).
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
    for line_no, path_text, label, start, end in rows:
        origin = f"{list_file}:{line_no}"
        if not path_text or not label and not isinstance(label, tuple):
            raise DatasetError(f"{origin}: expected a path and a label (a published set's test list without labels,"
                               " such as UCF101's, reads with --data.dataset ucf101)")
        path = Path(path_text) if Path(path_text).is_absolute() else base / path_text
        videos.append(LabelledVideo(path, label, origin, _span(start, end, origin)))
    videos = existing(videos, allow_missing)
    if not videos and not allow_empty:
        raise DatasetError(f"{list_file}: list file names no videos")
    return videos


def _span(start: str, end: str, origin: str) -> Span | None:
    if not start and not end:
        return None
    try:
        span = Span(float(start), float(end))
    except ValueError:
        raise DatasetError(f"{origin}: start and end must be numbers of seconds, got {start!r} and {end!r}") from None
    if not 0 <= span.start < span.end:
        raise DatasetError(f"{origin}: need 0 <= start < end, got {span.start:g} and {span.end:g}")
    return span


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _space_rows(list_file: Path) -> Iterable[Row]:
    """MMAction2/PyTorchVideo style: ``path label`` per line, or ``path label start end`` (two numbers last)."""
    for line_no, line in enumerate(read_lines(list_file), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.rsplit(maxsplit=3)
        if len(parts) == 4 and _is_number(parts[2]) and _is_number(parts[3]):
            yield line_no, parts[0], _labels(parts[1]), parts[2], parts[3]
            continue
        parts = line.rsplit(maxsplit=1)
        yield line_no, parts[0], _labels(parts[1]) if len(parts) == 2 else "", "", ""


def _labels(field: str) -> Label:
    """A label field as written: several labels (a tuple) when it holds the separator, else the one label."""
    return split_labels(field) if LABEL_SEPARATOR in field else field


def _csv_rows(list_file: Path, required: tuple[str, ...] = ("path", "label")) -> Iterable[tuple[int, dict]]:
    with list_file.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(required) - set(reader.fieldnames or ())
        if missing:
            names = ", ".join(f"'{name}'" for name in required)
            raise DatasetError(f"{list_file}:1: CSV header must name {names} (missing {sorted(missing)})")
        for row in reader:
            yield reader.line_num, {key: (value or "").strip() for key, value in row.items()}


def _path_label_rows(list_file: Path) -> Iterable[Row]:
    with list_file.open(newline="", encoding="utf-8") as handle:
        multi_label = "labels" in next(csv.reader(handle), [])
    for line_no, row in _csv_rows(list_file, ("path", "labels" if multi_label else "label")):
        label = split_labels(row["labels"]) if multi_label else _labels(row["label"])
        yield line_no, row["path"], label, row.get("start", ""), row.get("end", "")


def _manifest_rows(manifest: Path) -> Iterable[Row]:
    bad = 0
    for line_no, row in _csv_rows(manifest, ("path", "label", "ok")):
        if row["ok"].lower() == "true":
            yield line_no, row["path"], _labels(row["label"]), row.get("start", ""), row.get("end", "")
        else:
            bad += 1
    if bad:
        log.warning("%s: skipped %d bad video(s) (ok=false)", manifest, bad)


def is_manifest(path: str | Path) -> bool:
    """True for a CSV whose header has an ``ok`` column: a manifest from ``vidcls data verify``."""
    path = Path(path)
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open(newline="", encoding="utf-8") as handle:
        return "ok" in next(csv.reader(handle), [])


class ListFiles(DatasetFormat):
    """A list file per split, over another format that answers for the splits without a list.

    Classes: a classes file's (``classes_file``; index labels in the lists then count from that
    file's first index, so UCF101's 1-based lists read right with its ``classInd.txt``), else the
    underlying format's published ones, else the sorted labels of the train split.
    """

    name = "lists"

    def __init__(
        self,
        lists: Mapping[str, str | Path | None],
        under: DatasetFormat | None = None,
        classes_file: str | Path | None = None,
        allow_missing: bool = False,
    ):
        self.lists = {split: Path(path) for split, path in lists.items() if path}
        self.under = under
        self.class_index = read_class_index(classes_file) if classes_file else None
        self.allow_missing = allow_missing

    @property
    def publishes_classes(self) -> bool:  # type: ignore[override]
        return self.class_index is not None or (self.under is not None and self.under.publishes_classes)

    @property
    def multilabel(self) -> bool:  # type: ignore[override]
        return self.under is not None and self.under.multilabel

    def has_split(self, split: str) -> bool:
        return split in self.lists or (self.under is not None and self.under.has_split(split))

    def videos(self, split: str) -> list[LabelledVideo]:
        if split not in self.lists:
            if self.under is None:
                raise DatasetError(f"no data for the {split} split: give root or {split}_list")
            return self.under.videos(split)
        videos = read_list_file(self.lists[split], allow_missing=self.allow_missing)
        return relabel(videos, *self.class_index) if self.class_index else videos

    def classes(self) -> list[str]:
        if self.class_index:
            return self.class_index[0]
        if self.under is not None and self.under.publishes_classes:
            return self.under.classes()
        return infer_classes(self.videos("train"))
