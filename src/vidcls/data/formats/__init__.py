"""Dataset formats: each published layout read into labelled videos and its class list, behind one interface.

:class:`~vidcls.data.formats.base.DatasetFormat` is the interface; :func:`open_format` picks a
published set by name (``--data.dataset``). Class folders and list files are formats too; a split's
list file replaces what any format says for that split (:class:`~vidcls.data.formats.lists.ListFiles`).
"""

from __future__ import annotations

from pathlib import Path

from vidcls.data.formats.base import DatasetFormat
from vidcls.data.formats.charades import Charades
from vidcls.data.formats.diving48 import Diving48
from vidcls.data.formats.folders import ClassFolders
from vidcls.data.formats.hmdb51 import HMDB51
from vidcls.data.formats.lists import ListFiles
from vidcls.data.formats.ssv2 import SomethingSomethingV2
from vidcls.data.formats.ucf101 import UCF101
from vidcls.errors import DatasetError

DATASETS = ("ucf101", "hmdb51", "ssv2", "diving48", "charades")

__all__ = ["DATASETS", "Charades", "ClassFolders", "DatasetFormat", "Diving48", "HMDB51", "ListFiles", "SomethingSomethingV2",
           "UCF101", "open_format"]


def open_format(
    name: str, root: str | Path | None, annotations: str | Path | None, split: int = 1, allow_missing: bool = False
) -> DatasetFormat:
    """The published set ``name``, its videos under ``root`` and its annotation files in ``annotations``."""
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    if root is None or annotations is None:
        raise DatasetError(f"--data.dataset {name} needs --data.root (the videos) and --data.annotations (the split files)")
    if name in ("ucf101", "hmdb51"):
        return (UCF101 if name == "ucf101" else HMDB51)(root, annotations, split, allow_missing)
    if split != 1:
        raise DatasetError(f"{name}: split {split} does not exist (the set publishes one split)")
    return {"ssv2": SomethingSomethingV2, "diving48": Diving48, "charades": Charades}[name](root, annotations, allow_missing)
