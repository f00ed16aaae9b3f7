"""The one interface every dataset format implements: annotation files → labelled videos + class list."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from vidcls.data.sources import LabelledVideo, VideoSample, existing, infer_classes, resolve_labels
from vidcls.errors import DatasetError


class DatasetFormat(ABC):
    """A dataset as it is published: its videos for a split, with labels and spans, and its classes.

    ``videos(split)`` returns :class:`~vidcls.data.sources.LabelledVideo` whose labels are class
    names (or, for generic lists, indices in digits); ``classes()`` the class names in the order
    the dataset publishes them (a format without a published order: sorted training labels).
    ``samples(split, classes)`` maps the labels to indices of ``classes`` (a checkpoint's list
    may order them otherwise). Every problem is one :class:`~vidcls.errors.DatasetError` line
    naming the file, line or item.
    """

    name: ClassVar[str]
    publishes_classes: ClassVar[bool] = False  # True: classes() is the dataset's own list, not inferred
    multilabel: ClassVar[bool] = False  # True: its videos carry label sets (tuples), so it needs the multi-label task

    @abstractmethod
    def videos(self, split: str) -> list[LabelledVideo]:
        """The labelled videos of ``split`` ("train", "val" or "test")."""

    def has_split(self, split: str) -> bool:
        """True when ``split`` has videos in this dataset (a published set answers for all three)."""
        return True

    def classes(self) -> list[str]:
        """Class names in index order: the published order, else the sorted labels of the train split."""
        return infer_classes(self.videos("train"))

    def samples(self, split: str, classes: Sequence[str] | None = None) -> list[VideoSample]:
        """The split's videos with class indices into ``classes`` (default: :meth:`classes`)."""
        return resolve_labels(self.videos(split), self.classes() if classes is None else classes)


def annotation_file(folder: Path, name: str, what: str) -> Path:
    """``folder/name``, or one line saying which annotation file is missing."""
    path = folder / name
    if not path.is_file():
        raise DatasetError(f"{path}: no such file ({what})")
    return path


def read_json(path: Path) -> Any:
    """A JSON annotation file, or one line naming it and where it stops parsing."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text") from None


def json_items(path: Path, keys: Sequence[str]) -> list[dict[str, Any]]:
    """A JSON list of objects that each have ``keys``; a bad item is named by its position (from 0)."""
    items = read_json(path)
    if not isinstance(items, list):
        raise DatasetError(f"{path}: expected a JSON list of items, got {type(items).__name__}")
    for number, item in enumerate(items):
        missing = [key for key in keys if not isinstance(item, dict) or key not in item]
        if missing:
            raise DatasetError(f"{path}: item {number}: missing {', '.join(missing)} (expected {', '.join(keys)})")
    return items


def published_videos(videos: Sequence[LabelledVideo], allow_missing: bool = False) -> list[LabelledVideo]:
    """The annotated videos that exist, each found as named or as the ``.mp4`` that ``vidcls data prepare`` makes of it.

    Annotations name the published files (``.avi``, ``.webm``); a prepared copy of the videos
    keeps their paths with the suffix ``.mp4``, so one set of annotation files reads both. A
    missing video is an error naming its line or item, unless ``allow_missing``.
    """
    def located(video: LabelledVideo) -> LabelledVideo:
        prepared = video.path.with_suffix(".mp4")
        return replace(video, path=prepared) if not video.path.is_file() and prepared.is_file() else video

    return existing([located(video) for video in videos], allow_missing)
