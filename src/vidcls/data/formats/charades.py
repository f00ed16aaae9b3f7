"""Charades (Sigurdsson et al., ECCV 2016) as published (https://prior.allenai.org/projects/charades): 157 actions,
several per video, scored by mAP; the set of vidcls's multi-label task.

- videos: ``Charades_v1_480/<id>.mp4`` (``Charades_v1_480.zip``; ``--data.root Charades_v1_480``);
- annotations (``--data.annotations``, the ``Charades`` folder of ``Charades.zip``):
  ``Charades_v1_classes.txt``, ``c000 Holding some clothes`` per line, the class order; and
  ``Charades_v1_train.csv`` / ``Charades_v1_test.csv``, a video per row (``id``, ..., ``actions``,
  ``length``), whose ``actions`` field lists ``c092 11.90 21.20;c147 0.00 12.60``: a class id and the
  seconds the action starts and ends, ``;`` between actions, empty for a video without one.

A video's labels are the classes of all its actions, each once (video-level classification, as
PySlowFast and MMAction2 test Charades); a video without actions is a valid negative. Class names
are the classes file's names. The spans are checked, not used. No validation split is published:
``val`` reads the test videos (PySlowFast validates on them too).
"""

from __future__ import annotations

import csv
from pathlib import Path

from vidcls.data.formats.base import DatasetFormat, annotation_file, published_videos
from vidcls.data.sources import LABEL_SEPARATOR, LabelledVideo
from vidcls.errors import DatasetError

CLASSES_FILE = "Charades_v1_classes.txt"


class Charades(DatasetFormat):
    name = "charades"
    publishes_classes = True
    multilabel = True

    def __init__(self, root: str | Path, annotations: str | Path, allow_missing: bool = False):
        self.root, self.annotations = Path(root), Path(annotations)
        self.allow_missing = allow_missing
        self._names = read_charades_classes(annotation_file(self.annotations, CLASSES_FILE, "Charades' class list"))

    def classes(self) -> list[str]:
        return list(self._names.values())

    def videos(self, split: str) -> list[LabelledVideo]:
        name = "train" if split == "train" else "test"
        path = annotation_file(self.annotations, f"Charades_v1_{name}.csv", f"Charades' {name} videos")
        videos = []
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"id", "actions"} - set(reader.fieldnames or ())
            if missing:
                raise DatasetError(f"{path}:1: the header lacks {', '.join(sorted(missing))}")
            for row in reader:
                origin = f"{path}:{reader.line_num}"
                actions = (row["actions"] or "").split(LABEL_SEPARATOR)
                labels = dict.fromkeys(self._action_class(action, origin) for action in actions if action.strip())
                videos.append(LabelledVideo(self.root / f"{row['id'].strip()}.mp4", tuple(labels), origin))
        return published_videos(videos, self.allow_missing)

    def _action_class(self, action: str, origin: str) -> str:
        """The class name of one ``c092 11.90 21.20`` action; one line naming the action when it is malformed or unknown."""
        parts = action.split()
        if len(parts) != 3:
            raise DatasetError(f"{origin}: malformed action {action.strip()!r} (expected 'class start end', as 'c092 11.90 21.20')")
        class_id, *span = parts
        try:
            [float(seconds) for seconds in span]
        except ValueError:
            raise DatasetError(f"{origin}: malformed span in action {action.strip()!r}: start and end must be seconds") from None
        if class_id not in self._names:
            raise DatasetError(f"{origin}: unknown class id {class_id!r} in action {action.strip()!r} (not in {CLASSES_FILE})")
        return self._names[class_id]


def read_charades_classes(path: Path) -> dict[str, str]:
    """Class id → name (``c000`` → ``Holding some clothes``), in the file's order."""
    classes: dict[str, str] = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        class_id, _, name = line.strip().partition(" ")
        if not name.strip() or class_id in classes or name.strip() in classes.values():
            raise DatasetError(f"{path}:{line_no}: expected a new class id and its own name, got {line.strip()!r}")
        classes[class_id] = name.strip()
    if not classes:
        raise DatasetError(f"{path}: no classes")
    return classes
