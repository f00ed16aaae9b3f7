"""List files: path label [start end] lines, path,label[,start,end] CSVs, manifests; ListFiles over another format."""

import re

import pytest

from vidcls.data.formats.lists import ListFiles, read_list_file
from vidcls.data.sources import LabelledVideo, Span, infer_classes, resolve_labels
from vidcls.errors import DatasetError


def test_space_separated_list_with_relative_paths_and_spaces(tmp_path, touch):
    touch(tmp_path / "videos" / "my clip.mp4")
    touch(tmp_path / "videos" / "b.mp4")
    list_file = tmp_path / "train.txt"
    list_file.write_text("# comment\nvideos/my clip.mp4 jumping\n\nvideos/b.mp4 3\n")
    videos = read_list_file(list_file)
    assert videos == [
        LabelledVideo(tmp_path / "videos" / "my clip.mp4", "jumping", f"{list_file}:2"),
        LabelledVideo(tmp_path / "videos" / "b.mp4", "3", f"{list_file}:4"),
    ]


def test_csv_list_with_header(tmp_path, touch):
    touch(tmp_path / "a.mp4")
    list_file = tmp_path / "val.csv"
    list_file.write_text('path,label\na.mp4,"massaging person\'s head"\n')
    (video,) = read_list_file(list_file)
    assert video.label == "massaging person's head" and video.path == tmp_path / "a.mp4"


def test_csv_without_required_columns(tmp_path, touch):
    list_file = tmp_path / "val.csv"
    list_file.write_text("file,class\na.mp4,x\n")
    with pytest.raises(DatasetError, match="header must name 'path', 'label'"):
        read_list_file(list_file)


def test_list_naming_a_missing_file_names_the_line(tmp_path, touch):
    touch(tmp_path / "a.mp4")
    list_file = tmp_path / "train.txt"
    list_file.write_text("a.mp4 x\nmissing.mp4 y\n")
    with pytest.raises(DatasetError, match=rf"{list_file}:2: video not found: .*missing.mp4"):
        read_list_file(list_file)


def test_line_without_label(tmp_path, touch):
    list_file = tmp_path / "train.txt"
    list_file.write_text("lonely.mp4\n")
    with pytest.raises(DatasetError, match=f"{list_file}:1: expected a path and a label"):
        read_list_file(list_file)


def test_spans_in_space_and_csv_lists(tmp_path, touch):
    touch(tmp_path / "long video.mp4")
    spaced = tmp_path / "train.txt"
    spaced.write_text("long video.mp4 jumping 1.5 4\nlong video.mp4 7\n")
    first, second = read_list_file(spaced)
    assert (first.label, first.span) == ("jumping", Span(1.5, 4.0))
    assert (second.label, second.span) == ("7", None)
    table = tmp_path / "train.csv"
    table.write_text("path,label,start,end\nlong video.mp4,jumping,0,2.5\nlong video.mp4,running,,\n")
    assert [v.span for v in read_list_file(table)] == [Span(0.0, 2.5), None]
    table.write_text("path,label,start,end\nlong video.mp4,jumping,3,2\n")
    with pytest.raises(DatasetError, match=f"{table}:2: need 0 <= start < end"):
        read_list_file(table)


def test_allow_missing_skips_and_counts(tmp_path, touch, caplog):
    touch(tmp_path / "a.mp4")
    list_file = tmp_path / "train.txt"
    list_file.write_text("a.mp4 x\nb.mp4 y\nc.mp4 y\n")
    with pytest.raises(DatasetError, match=f"{list_file}:2: video not found: .*b.mp4 \\(--data.allow_missing"):
        read_list_file(list_file)
    assert [v.path.name for v in read_list_file(list_file, allow_missing=True)] == ["a.mp4"]
    assert "skipped 2 missing video(s) of 3" in caplog.text


def test_one_based_list_reads_right_with_its_index_name_classes_file(tmp_path, touch):
    for name in ("a.avi", "b.avi"):
        touch(tmp_path / name)
    (tmp_path / "train.txt").write_bytes(b"a.avi 1\r\nb.avi 2\r\n")
    (tmp_path / "classInd.txt").write_bytes(b"1 Archery\r\n2 Bowling\r\n")
    with pytest.raises(DatasetError, match="index 0 has no video"):
        ListFiles({"train": tmp_path / "train.txt"}).classes()
    lists = ListFiles({"train": tmp_path / "train.txt"}, classes_file=tmp_path / "classInd.txt")
    assert lists.classes() == ["Archery", "Bowling"]
    assert [(s.path.name, s.label) for s in lists.samples("train")] == [("a.avi", 0), ("b.avi", 1)]


def test_a_list_replaces_its_split_of_the_format_under_it(tmp_path, touch):
    from vidcls.data.formats.folders import ClassFolders

    touch(tmp_path / "train" / "b" / "1.mp4")
    touch(tmp_path / "train" / "a" / "2.mp4")
    touch(tmp_path / "other.mp4")
    (tmp_path / "val.txt").write_text("other.mp4 b\n")
    lists = ListFiles({"train": None, "val": tmp_path / "val.txt"}, under=ClassFolders(tmp_path))
    assert lists.classes() == ["a", "b"] and lists.has_split("val") and not lists.has_split("test")
    assert [(s.path.name, s.label) for s in lists.samples("val")] == [("other.mp4", 1)]
    assert [s.path.name for s in lists.samples("train")] == ["2.mp4", "1.mp4"]


def test_multi_label_lists_give_label_sets_and_negatives(tmp_path, touch):
    video = touch(tmp_path / "v.mp4")
    (tmp_path / "tags.txt").write_text(f"{video} dog;ball\n{video} ;\n{video} dog\n")
    (tmp_path / "tags.csv").write_text(f'path,labels\n{video},cat;dog\n{video},\n"{video}","ball"\n')
    spaced, listed = read_list_file(tmp_path / "tags.txt"), read_list_file(tmp_path / "tags.csv")
    assert [v.label for v in spaced] == [("dog", "ball"), (), "dog"]  # a field without ';' keeps one plain label
    assert [v.label for v in listed] == [("cat", "dog"), (), ("ball",)]  # a labels column: always a set
    assert infer_classes(spaced + listed) == ["ball", "cat", "dog"]
    assert [s.label for s in resolve_labels(spaced + listed, ["ball", "cat", "dog"])] == [(2, 0), (), 2, (1, 2), (), (0,)]


def test_a_label_of_a_set_missing_from_the_classes_is_one_line_naming_file_and_line(tmp_path, touch):
    video = touch(tmp_path / "v.mp4")
    (tmp_path / "tags.csv").write_text(f"path,labels\n{video},dog\n{video},dog;cta\n")
    with pytest.raises(DatasetError, match=rf"^{re.escape(str(tmp_path / 'tags.csv'))}:3: unknown label 'cta' \(2 known classes\)$"):
        resolve_labels(read_list_file(tmp_path / "tags.csv"), ["cat", "dog"])
