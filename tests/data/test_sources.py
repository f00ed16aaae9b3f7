import re
from pathlib import Path

import pytest

from vidcls.data.sources import (
    LabelledVideo,
    infer_classes,
    read_classes_file,
    read_list_file,
    resolve_labels,
    scan_class_folders,
)
from vidcls.errors import DatasetError


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_class_folders_list_videos_with_folder_labels(tmp_path):
    touch(tmp_path / "train" / "b" / "2.mp4")
    touch(tmp_path / "train" / "a" / "1.AVI")
    touch(tmp_path / "train" / "a" / "notes.txt")
    touch(tmp_path / "train" / ".cache" / "x.mp4")
    videos = scan_class_folders(tmp_path / "train")
    assert [(v.path.name, v.label) for v in videos] == [("1.AVI", "a"), ("2.mp4", "b")]
    assert infer_classes(videos) == ["a", "b"]


def test_missing_split_folder_is_named(tmp_path):
    with pytest.raises(DatasetError, match=f"{tmp_path / 'train'}: no such folder"):
        scan_class_folders(tmp_path / "train")


def test_split_without_class_folders_is_named(tmp_path):
    touch(tmp_path / "train" / "loose.mp4")
    with pytest.raises(DatasetError, match="no class folders"):
        scan_class_folders(tmp_path / "train")


def test_empty_class_folder_is_named(tmp_path):
    touch(tmp_path / "train" / "a" / "1.mp4")
    (tmp_path / "train" / "empty").mkdir()
    with pytest.raises(DatasetError, match=f"{tmp_path / 'train' / 'empty'}: class folder has no videos"):
        scan_class_folders(tmp_path / "train")


def test_space_separated_list_with_relative_paths_and_spaces(tmp_path):
    touch(tmp_path / "videos" / "my clip.mp4")
    touch(tmp_path / "videos" / "b.mp4")
    list_file = tmp_path / "train.txt"
    list_file.write_text("# comment\nvideos/my clip.mp4 jumping\n\nvideos/b.mp4 3\n")
    videos = read_list_file(list_file)
    assert videos == [
        LabelledVideo(tmp_path / "videos" / "my clip.mp4", "jumping", f"{list_file}:2"),
        LabelledVideo(tmp_path / "videos" / "b.mp4", "3", f"{list_file}:4"),
    ]


def test_csv_list_with_header(tmp_path):
    touch(tmp_path / "a.mp4")
    list_file = tmp_path / "val.csv"
    list_file.write_text('path,label\na.mp4,"massaging person\'s head"\n')
    (video,) = read_list_file(list_file)
    assert video.label == "massaging person's head" and video.path == tmp_path / "a.mp4"


def test_csv_without_required_columns(tmp_path):
    list_file = tmp_path / "val.csv"
    list_file.write_text("file,class\na.mp4,x\n")
    with pytest.raises(DatasetError, match="header must name 'path', 'label'"):
        read_list_file(list_file)


def test_list_naming_a_missing_file_names_the_line(tmp_path):
    touch(tmp_path / "a.mp4")
    list_file = tmp_path / "train.txt"
    list_file.write_text("a.mp4 x\nmissing.mp4 y\n")
    with pytest.raises(DatasetError, match=rf"{list_file}:2: video not found: .*missing.mp4"):
        read_list_file(list_file)


def test_line_without_label(tmp_path):
    list_file = tmp_path / "train.txt"
    list_file.write_text("lonely.mp4\n")
    with pytest.raises(DatasetError, match=f"{list_file}:1: expected a path and a label"):
        read_list_file(list_file)


def test_index_labels_give_numbered_classes_in_numeric_order():
    videos = [LabelledVideo(Path(f"{i}.mp4"), str(i), "x") for i in (10, 2, 0)]
    assert infer_classes(videos) == [str(i) for i in range(11)]


def test_labels_resolve_by_name_or_index_and_unknown_is_named():
    classes = ["run", "swim"]
    videos = [LabelledVideo(Path("a.mp4"), "swim", "l:1"), LabelledVideo(Path("b.mp4"), "0", "l:2")]
    assert [s.label for s in resolve_labels(videos, classes)] == [1, 0]
    with pytest.raises(DatasetError, match="l:3: unknown label 'fly'"):
        resolve_labels([LabelledVideo(Path("c.mp4"), "fly", "l:3")], classes)
    with pytest.raises(DatasetError, match="l:4: unknown label '7'"):
        resolve_labels([LabelledVideo(Path("c.mp4"), "7", "l:4")], classes)


def test_classes_file(tmp_path):
    path = tmp_path / "classes.txt"
    path.write_text("b\na\n\n")
    assert read_classes_file(path) == ["b", "a"]
    path.write_text("a\na\n")
    with pytest.raises(DatasetError, match="repeats"):
        read_classes_file(path)


def test_multi_label_lists_give_label_sets_and_negatives(tmp_path):
    video = touch(tmp_path / "v.mp4")
    (tmp_path / "tags.txt").write_text(f"{video} dog;ball\n{video} ;\n{video} dog\n")
    (tmp_path / "tags.csv").write_text(f'path,labels\n{video},cat;dog\n{video},\n"{video}","ball"\n')
    spaced, listed = read_list_file(tmp_path / "tags.txt"), read_list_file(tmp_path / "tags.csv")
    assert [v.label for v in spaced] == [("dog", "ball"), (), "dog"]  # a field without ';' keeps one plain label
    assert [v.label for v in listed] == [("cat", "dog"), (), ("ball",)]  # a labels column: always a set
    assert infer_classes(spaced + listed) == ["ball", "cat", "dog"]
    assert [s.label for s in resolve_labels(spaced + listed, ["ball", "cat", "dog"])] == [(2, 0), (), 2, (1, 2), (), (0,)]


def test_a_label_of_a_set_missing_from_the_classes_is_one_line_naming_file_and_line(tmp_path):
    video = touch(tmp_path / "v.mp4")
    (tmp_path / "tags.csv").write_text(f"path,labels\n{video},dog\n{video},dog;cta\n")
    with pytest.raises(DatasetError, match=rf"^{re.escape(str(tmp_path / 'tags.csv'))}:3: unknown label 'cta' \(2 known classes\)$"):
        resolve_labels(read_list_file(tmp_path / "tags.csv"), ["cat", "dog"])
