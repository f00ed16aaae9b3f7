"""UCF101 as published (https://www.crcv.ucf.edu/data/UCF101.php): ``UCF101.rar`` and ``UCF101TrainTestSplits-RecognitionTask.zip``.

- videos: ``UCF-101/<Class>/v_<Class>_gXX_cYY.avi`` (``--data.root UCF-101``);
- annotations: ``ucfTrainTestlist/`` (``--data.annotations``) with ``classInd.txt`` (``1 ApplyEyeMakeup``:
  1-based, the class order), ``trainlist0K.txt`` (``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1``) and
  ``testlist0K.txt`` (the path only: the folder is the class), K = 1, 2, 3. Lines end in CRLF.

The class is the folder, never the file name: the ``HandstandPushups`` folder holds
``v_HandStandPushups_*`` files. The published protocol has no validation split, so ``val`` reads
the test list (a ``--data.val_list`` replaces it).
"""

from __future__ import annotations

from pathlib import Path

from vidcls.data.formats.base import DatasetFormat, annotation_file, published_videos
from vidcls.data.sources import LabelledVideo, read_class_index, read_lines
from vidcls.errors import DatasetError

SPLITS = (1, 2, 3)


class UCF101(DatasetFormat):
    name = "ucf101"
    publishes_classes = True

    def __init__(self, root: str | Path, annotations: str | Path, split: int = 1, allow_missing: bool = False):
        self.root, self.annotations = Path(root), Path(annotations)
        if split not in SPLITS:
            raise DatasetError(f"ucf101: split {split} does not exist (the published splits are 1, 2 and 3)")
        self.split, self.allow_missing = split, allow_missing
        self._classes, first = read_class_index(annotation_file(self.annotations, "classInd.txt", "UCF101's class list"))
        if first != 1:
            raise DatasetError(f"{self.annotations / 'classInd.txt'}: UCF101's class indices start at 1, these at {first}")

    def classes(self) -> list[str]:
        return list(self._classes)

    def videos(self, split: str) -> list[LabelledVideo]:
        kind = "train" if split == "train" else "test"
        path = annotation_file(self.annotations, f"{kind}list0{self.split}.txt", f"UCF101 split {self.split}'s {kind} list")
        videos = []
        for line_no, line in enumerate(read_lines(path), start=1):
            fields = line.split()
            if not fields:
                continue
            origin = f"{path}:{line_no}"
            if len(fields) != (2 if kind == "train" else 1) or "/" not in fields[0]:
                shape = "<Class>/<video>.avi <class index>" if kind == "train" else "<Class>/<video>.avi"
                raise DatasetError(f"{origin}: expected '{shape}', got {line.strip()!r}")
            folder = fields[0].split("/")[0]
            if folder not in self._classes:
                raise DatasetError(f"{origin}: unknown class {folder!r} (not in classInd.txt)")
            if kind == "train":
                index = int(fields[1]) if fields[1].isdigit() else 0
                if not 1 <= index <= len(self._classes):
                    raise DatasetError(f"{origin}: class index {fields[1]!r} is not in classInd.txt (1..{len(self._classes)})")
                if self._classes[index - 1] != folder:
                    raise DatasetError(f"{origin}: class index {index} is {self._classes[index - 1]}, but the video is in {folder}/")
            videos.append(LabelledVideo(self.root / fields[0], folder, origin))
        return published_videos(videos, self.allow_missing)
