"""Diving-48 (V2 labels) as published (http://www.svcl.ucsd.edu/projects/resound/dataset.html).

- videos: ``rgb/<vid_name>.mp4`` (``Diving48_rgb.tar.gz``; ``--data.root rgb``);
- annotations (``--data.annotations``): ``Diving48_V2_train.json`` and ``Diving48_V2_test.json``, items with
  ``vid_name``, ``label`` (0..47), ``start_frame`` and ``end_frame``; ``Diving48_vocab.json``, 48 entries of
  ``[takeoff, somersault, twist, flight position]``: the class order. A class is named by its four
  words joined by spaces (``Back 15som 05Twis FREE``).

Each item's frame range becomes the sample's span, read as ``[start_frame, end_frame)``: TSM's
Diving-48 list takes ``end_frame`` as the clip's frame count. The range stays in frames until the
video is opened (its frame rate converts it), so a ``vidcls data prepare`` copy must keep the frame rate
(no ``--fps``). No validation split is published: ``val`` reads the test items.
"""

from __future__ import annotations

from pathlib import Path

from vidcls.data.formats.base import DatasetFormat, annotation_file, json_items, published_videos, read_json
from vidcls.data.sources import LabelledVideo, Span
from vidcls.errors import DatasetError


class Diving48(DatasetFormat):
    name = "diving48"
    publishes_classes = True

    def __init__(self, root: str | Path, annotations: str | Path, allow_missing: bool = False):
        self.root, self.annotations = Path(root), Path(annotations)
        self.allow_missing = allow_missing
        path = annotation_file(self.annotations, "Diving48_vocab.json", "Diving-48's class list")
        vocab = read_json(path)
        if not isinstance(vocab, list) or not all(isinstance(e, list) and all(isinstance(w, str) for w in e) for e in vocab):
            raise DatasetError(f"{path}: expected a list of classes, each a list of words")
        self._classes = [" ".join(entry) for entry in vocab]
        if len(set(self._classes)) != len(self._classes):
            raise DatasetError(f"{path}: two classes have the same words")

    def classes(self) -> list[str]:
        return list(self._classes)

    def videos(self, split: str) -> list[LabelledVideo]:
        name = "train" if split == "train" else "test"
        path = annotation_file(self.annotations, f"Diving48_V2_{name}.json", f"Diving-48's {name} items")
        videos = []
        for number, item in enumerate(json_items(path, ("vid_name", "label", "start_frame", "end_frame"))):
            origin = f"{path}: item {number} ({item['vid_name']})"
            label, start, end = item["label"], item["start_frame"], item["end_frame"]
            if not isinstance(label, int) or not 0 <= label < len(self._classes):
                raise DatasetError(f"{origin}: label {label!r} is not a class index (0..{len(self._classes) - 1})")
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
                raise DatasetError(f"{origin}: need whole frames 0 <= start_frame < end_frame, got {start!r} and {end!r}")
            span = Span(start, end, in_frames=True)
            videos.append(LabelledVideo(self.root / f"{item['vid_name']}.mp4", self._classes[label], origin, span))
        return published_videos(videos, self.allow_missing)
