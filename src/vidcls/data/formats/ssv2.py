"""Something-Something v2 as published (Qualcomm AI datasets, formerly 20BN).

- videos: ``20bn-something-something-v2/<id>.webm`` (VP9; ``--data.root``);
- annotations (``--data.annotations``): ``something-something-v2-labels.json`` (template → index as a
  string: the class order), ``-train.json`` and ``-validation.json`` (items with ``id``, ``label``,
  ``template`` such as ``Holding [something] next to [something]`` and ``placeholders``),
  ``-test.json`` (ids only: no labels, so for ``vidcls predict`` only).

The class of an item is its template without the brackets (``label`` is the filled-in sentence).
There is no labelled test split: ``val`` and ``test`` both read the validation items.
"""

from __future__ import annotations

from pathlib import Path

from vidcls.data.formats.base import DatasetFormat, annotation_file, json_items, published_videos, read_json
from vidcls.data.sources import LabelledVideo
from vidcls.errors import DatasetError

PREFIX = "something-something-v2"


class SomethingSomethingV2(DatasetFormat):
    name = "ssv2"
    publishes_classes = True

    def __init__(self, root: str | Path, annotations: str | Path, allow_missing: bool = False):
        self.root, self.annotations = Path(root), Path(annotations)
        self.allow_missing = allow_missing
        path = annotation_file(self.annotations, f"{PREFIX}-labels.json", "SSv2's class list")
        labels = read_json(path)
        if not isinstance(labels, dict) or not all(isinstance(v, str) and v.isdigit() for v in labels.values()):
            raise DatasetError(f"{path}: expected an object of template → index (a string of digits)")
        order = sorted(labels, key=lambda template: int(labels[template]))
        if [int(labels[t]) for t in order] != list(range(len(order))):
            raise DatasetError(f"{path}: the class indices must run from 0 without a gap or repeat")
        self._classes = order

    def classes(self) -> list[str]:
        return list(self._classes)

    def videos(self, split: str) -> list[LabelledVideo]:
        name = "train" if split == "train" else "validation"
        path = annotation_file(self.annotations, f"{PREFIX}-{name}.json", f"SSv2's {name} items")
        known = set(self._classes)
        videos = []
        for number, item in enumerate(json_items(path, ("id", "template"))):
            label = str(item["template"]).replace("[", "").replace("]", "")
            origin = f"{path}: item {number} (id {item['id']})"
            if label not in known:
                raise DatasetError(f"{origin}: unknown class {label!r} (not in {PREFIX}-labels.json)")
            videos.append(LabelledVideo(self.root / f"{item['id']}.webm", label, origin))
        return published_videos(videos, self.allow_missing)

    def test_videos(self) -> list[Path]:
        """The unlabelled test videos (``-test.json``'s ids): what ``vidcls predict`` is given."""
        path = annotation_file(self.annotations, f"{PREFIX}-test.json", "SSv2's test ids")
        videos = [LabelledVideo(self.root / f"{item['id']}.webm", "", f"{path}: item {number} (id {item['id']})")
                  for number, item in enumerate(json_items(path, ("id",)))]
        return [video.path for video in published_videos(videos, self.allow_missing)]
