from pathlib import Path

import pytest

from vidcls.data.sources import (
    LabelledVideo,
    infer_classes,
    read_class_index,
    read_classes_file,
    read_lines,
    resolve_labels,
)
from vidcls.errors import DatasetError


def test_index_labels_give_numbered_classes_in_numeric_order():
    videos = [LabelledVideo(Path(f"{i}.mp4"), str(i), "x") for i in (10, 2, 0, 1, 3, 4, 5, 6, 7, 8, 9)]
    assert infer_classes(videos) == [str(i) for i in range(11)]


@pytest.mark.parametrize("indices, problem", [((1, 2, 3), r"index 0 has no video \(they start at 1, not 0\)"),
                                               ((0, 1, 3), "index 2 has no video: ")])
def test_index_labels_with_a_gap_stop_with_the_cure(indices, problem):
    videos = [LabelledVideo(Path(f"{i}.avi"), str(i), f"lists/train.txt:{n}") for n, i in enumerate(indices, start=1)]
    with pytest.raises(DatasetError, match=f"^lists/train.txt: labels are class indices, but {problem}") as caught:
        infer_classes(videos)
    assert "--data.classes" in str(caught.value) and "--data.dataset ucf101" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_labels_resolve_by_name_or_index_and_unknown_is_named():
    classes = ["run", "swim"]
    videos = [LabelledVideo(Path("a.mp4"), "swim", "l:1"), LabelledVideo(Path("b.mp4"), "0", "l:2")]
    assert [s.label for s in resolve_labels(videos, classes)] == [1, 0]
    with pytest.raises(DatasetError, match="l:3: unknown label 'fly'"):
        resolve_labels([LabelledVideo(Path("c.mp4"), "fly", "l:3")], classes)
    with pytest.raises(DatasetError, match="l:4: unknown label '7'"):
        resolve_labels([LabelledVideo(Path("c.mp4"), "7", "l:4")], classes)


def test_index_labels_counted_from_1_against_named_classes_stop_with_the_cure():
    """UCF101's trainlist given with classes named elsewhere (a checkpoint's, a list): never read one off."""
    classes = ["ApplyEyeMakeup", "ApplyLipstick", "Archery"]
    videos = [LabelledVideo(Path(f"{i}.avi"), str(i), f"trainlist01.txt:{i}") for i in (1, 2, 3)]
    with pytest.raises(DatasetError, match=r"^trainlist01.txt: labels are class indices counted from 1 \(1..3 for 3"
                                           r" classes\), not from 0: give the class names") as caught:
        resolve_labels(videos, classes)
    assert "--data.dataset ucf101" in str(caught.value) and "\n" not in str(caught.value)
    assert [s.label for s in resolve_labels(videos[:2] + [LabelledVideo(Path("0.avi"), "0", "l:0")], classes)] == [1, 2, 0]


def test_classes_file(tmp_path):
    path = tmp_path / "classes.txt"
    path.write_text("b\na\n\n")
    assert read_classes_file(path) == ["b", "a"]
    path.write_text("a\na\n")
    with pytest.raises(DatasetError, match="repeats"):
        read_classes_file(path)


def test_classes_file_in_index_name_form(tmp_path):
    path = tmp_path / "classInd.txt"
    path.write_bytes(b"2 BandMarching\r\n1 ApplyEyeMakeup\r\n3 Hurling (sport)\r\n")
    assert read_class_index(path) == (["ApplyEyeMakeup", "BandMarching", "Hurling (sport)"], 1)
    path.write_text("0 a\n1 b\n")
    assert read_class_index(path) == (["a", "b"], 0)
    path.write_text("1 a\n3 b\n")
    with pytest.raises(DatasetError, match="from 0 or 1 without a gap"):
        read_classes_file(path)
    path.write_text("3d printing\nabseiling\n")  # not every line numbered: names, one a line
    assert read_class_index(path) == (["3d printing", "abseiling"], 0)


def test_an_annotation_file_that_is_not_utf8_is_one_line_naming_it(tmp_path):
    listing = tmp_path / "train.txt"
    listing.write_bytes("caf\xe9.avi 0\n".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"train.txt: not UTF-8 text \(byte 3\)$"):
        read_lines(listing)
