"""Charades (Sigurdsson et al., ECCV 2016), as published: 157 actions, several per video, scored by mAP.

The files of the release (``Charades.zip`` and ``Charades_v1_480.zip``), read in place:

- ``Charades_v1_classes.txt``: ``c000 Holding some clothes`` per line; its order is the class order.
- ``Charades_v1_train.csv`` / ``Charades_v1_test.csv``: one video per row (``id``, ..., ``actions``,
  ``length``); ``actions`` lists ``c092 11.90 21.20;c147 0.00 12.60``: a class id and the seconds it
  starts and ends, ``;`` between actions, empty for a video without one (a valid negative).
- ``Charades_v1_480/<id>.mp4``: the videos, 480 pixels high.

A video's labels are the classes of all its actions (video-level classification, the protocol
PySlowFast and MMAction2 test Charades with); the spans are checked, not used. The release has no
val split: the test split is the one reported.
"""

from __future__ import annotations

import csv
from pathlib import Path

from vidcls.data.sources import LabelledVideo
from vidcls.errors import DatasetError

CLASSES_FILE = "Charades_v1_classes.txt"
SPLIT_FILES = {"train": "Charades_v1_train.csv", "test": "Charades_v1_test.csv"}
VIDEO_FOLDER = "Charades_v1_480"


def read_charades_classes(root: str | Path) -> dict[str, str]:
    """Class id → name (``c000`` → ``Holding some clothes``), in the file's order."""
    path = Path(root) / CLASSES_FILE
    if not path.is_file():
        raise DatasetError(f"{path}: no such file (the Charades classes file)")
    classes: dict[str, str] = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        class_id, _, name = line.strip().partition(" ")
        if not name.strip() or class_id in classes:
            raise DatasetError(f"{path}:{line_no}: expected a new class id and its name, got {line.strip()!r}")
        classes[class_id] = name.strip()
    if not classes:
        raise DatasetError(f"{path}: no classes")
    return classes


def read_charades_split(root: str | Path, split: str, classes: dict[str, str]) -> list[LabelledVideo]:
    """The videos of ``split`` (train or test) with their labels: the names of their actions' classes, each once."""
    root = Path(root)
    if split not in SPLIT_FILES:
        raise DatasetError(f"Charades has no {split} split (it publishes {', '.join(SPLIT_FILES)})")
    path = root / SPLIT_FILES[split]
    if not path.is_file():
        raise DatasetError(f"{path}: no such file (the Charades {split} annotations)")
    videos = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"id", "actions"} - set(reader.fieldnames or ())
        if missing:
            raise DatasetError(f"{path}:1: the header lacks {', '.join(sorted(missing))}")
        for row in reader:
            origin = f"{path}:{reader.line_num}"
            labels = dict.fromkeys(_action_class(action, classes, origin)
                                   for action in (row["actions"] or "").split(";") if action.strip())
            video = root / VIDEO_FOLDER / f"{row['id'].strip()}.mp4"
            if not video.is_file():
                raise DatasetError(f"{origin}: video not found: {video}")
            videos.append(LabelledVideo(video, tuple(labels), origin))
    if not videos:
        raise DatasetError(f"{path}: no videos")
    return videos


def _action_class(action: str, classes: dict[str, str], origin: str) -> str:
    """The class name of one ``c092 11.90 21.20`` action; one line naming the action when it is malformed or unknown."""
    parts = action.split()
    if len(parts) != 3:
        raise DatasetError(f"{origin}: malformed action {action.strip()!r} (expected 'class start end', e.g. 'c092 11.90 21.20')")
    class_id, *span = parts
    try:
        [float(seconds) for seconds in span]
    except ValueError:
        raise DatasetError(f"{origin}: malformed span in action {action.strip()!r}: start and end must be seconds") from None
    if class_id not in classes:
        raise DatasetError(f"{origin}: unknown class id {class_id!r} (not in {CLASSES_FILE})")
    return classes[class_id]
