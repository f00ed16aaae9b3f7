"""Class folders: root/<split>/<class>/<video>."""

import pytest

from vidcls.data.formats.folders import ClassFolders, scan_class_folders
from vidcls.data.sources import infer_classes
from vidcls.errors import DatasetError


def test_class_folders_list_videos_with_folder_labels(tmp_path, touch):
    touch(tmp_path / "train" / "b" / "2.mp4")
    touch(tmp_path / "train" / "a" / "1.AVI")
    touch(tmp_path / "train" / "a" / "notes.txt")
    touch(tmp_path / "train" / ".cache" / "x.mp4")
    videos = scan_class_folders(tmp_path / "train")
    assert [(v.path.name, v.label) for v in videos] == [("1.AVI", "a"), ("2.mp4", "b")]
    assert infer_classes(videos) == ["a", "b"]


def test_missing_split_folder_is_named(tmp_path, touch):
    with pytest.raises(DatasetError, match=f"{tmp_path / 'train'}: no such folder"):
        scan_class_folders(tmp_path / "train")


def test_split_without_class_folders_is_named(tmp_path, touch):
    touch(tmp_path / "train" / "loose.mp4")
    with pytest.raises(DatasetError, match="no class folders"):
        scan_class_folders(tmp_path / "train")


def test_empty_class_folder_is_named(tmp_path, touch):
    touch(tmp_path / "train" / "a" / "1.mp4")
    (tmp_path / "train" / "empty").mkdir()
    with pytest.raises(DatasetError, match=f"{tmp_path / 'train' / 'empty'}: class folder has no videos"):
        scan_class_folders(tmp_path / "train")

def test_class_folders_format_answers_for_the_splits_it_has(tmp_path, touch):
    touch(tmp_path / "train" / "run" / "1.mp4")
    touch(tmp_path / "val" / "run" / "2.mp4")
    folders = ClassFolders(tmp_path)
    assert folders.has_split("val") and not folders.has_split("test") and not folders.publishes_classes
    assert folders.classes() == ["run"]
    assert [(s.path.name, s.label, s.span) for s in folders.samples("val")] == [("2.mp4", 0, None)]
