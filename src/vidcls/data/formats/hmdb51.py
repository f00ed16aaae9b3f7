"""HMDB51 as published (https://serre-lab.clps.brown.edu/resource/hmdb-a-large-human-motion-database/).

- videos: ``hmdb51_org/<class>/<name>.avi`` (``--data.root hmdb51_org``; the download is one RAR
  per class); names hold ``#``, ``&``, ``'``, brackets and ``!``;
- annotations: ``testTrainMulti_7030_splits/`` (``--data.annotations``) with ``<class>_test_splitK.txt``
  (K = 1, 2, 3), one line per video of the class: ``<name>.avi <tag> `` (trailing space), tag 1
  train, 2 test, 0 unused in that split.

Classes: the sorted class names. The protocol has no validation split: ``val`` reads the test videos.
"""

from __future__ import annotations

import re
from pathlib import Path

from vidcls.data.formats.base import DatasetFormat, published_videos
from vidcls.data.sources import LabelledVideo, read_lines
from vidcls.errors import DatasetError

TAGS = {"train": "1", "test": "2"}  # "0": not used in this split


class HMDB51(DatasetFormat):
    name = "hmdb51"
    publishes_classes = True

    def __init__(self, root: str | Path, annotations: str | Path, split: int = 1, allow_missing: bool = False):
        self.root, self.annotations = Path(root), Path(annotations)
        if not self.annotations.is_dir():
            raise DatasetError(f"{self.annotations}: no such folder (HMDB51's testTrainMulti_7030_splits)")
        pattern = re.compile(rf"(.+)_test_split{split}\.txt")
        self.split_files = {match[1]: path for path in sorted(self.annotations.iterdir())
                            if (match := pattern.fullmatch(path.name))}
        if not self.split_files:
            found = sorted({m[1] for p in self.annotations.iterdir() if (m := re.search(r"_test_split(\d+)\.txt$", p.name))})
            raise DatasetError(f"{self.annotations}: hmdb51 split {split} does not exist "
                               f"(no <class>_test_split{split}.txt; found splits: {', '.join(found) or 'none'})")
        self.allow_missing = allow_missing

    def classes(self) -> list[str]:
        return sorted(self.split_files)

    def videos(self, split: str) -> list[LabelledVideo]:
        wanted = TAGS["train" if split == "train" else "test"]
        videos = []
        for label, path in sorted(self.split_files.items()):
            for line_no, line in enumerate(read_lines(path), start=1):
                if not line.strip():
                    continue
                fields = line.strip().rsplit(maxsplit=1)
                origin = f"{path}:{line_no}"
                if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
                    raise DatasetError(f"{origin}: expected '<name>.avi <tag>' with tag 0, 1 or 2, got {line.strip()!r}")
                if fields[1] == wanted:
                    videos.append(LabelledVideo(self.root / label / fields[0], label, origin))
        return published_videos(videos, self.allow_missing)
