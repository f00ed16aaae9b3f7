"""Class folders: ``root/<split>/<class>/<video>``, the folder name is the label (torchvision's ImageFolder layout)."""

from __future__ import annotations

from pathlib import Path

from vidcls.data.formats.base import DatasetFormat
from vidcls.data.sources import VIDEO_EXTENSIONS, LabelledVideo, is_video
from vidcls.errors import DatasetError


def scan_class_folders(split_dir: str | Path) -> list[LabelledVideo]:
    """List ``split_dir/<class>/<video>`` files; the folder name is the label."""
    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        raise DatasetError(f"{split_dir}: no such folder")
    class_dirs = sorted(p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DatasetError(f"{split_dir}: no class folders (expected {split_dir}/<class>/<video>)")
    videos: list[LabelledVideo] = []
    for class_dir in class_dirs:
        files = sorted(p for p in class_dir.iterdir() if is_video(p))
        if not files:
            raise DatasetError(f"{class_dir}: class folder has no videos ({', '.join(sorted(VIDEO_EXTENSIONS))})")
        videos += [LabelledVideo(f, class_dir.name, str(class_dir)) for f in files]
    return videos


class ClassFolders(DatasetFormat):
    """``root/train``, ``root/val``, ``root/test``, each holding one folder of videos per class; classes sorted."""

    name = "folders"

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def has_split(self, split: str) -> bool:
        return (self.root / split).is_dir()

    def videos(self, split: str) -> list[LabelledVideo]:
        return scan_class_folders(self.root / split)
