"""UCF101 read from its published layout: CRLF split files, 1-based classInd, unlabelled test lists."""

import shutil

import pytest

from vidcls.data.formats import UCF101, open_format
from vidcls.errors import DatasetError

CLASSES = ["ApplyEyeMakeup", "BandMarching", "HandstandPushups"]


def test_splits_read_as_published(published_dataset):
    videos, lists = published_dataset("ucf101")
    assert b"\r\n" in (lists / "trainlist01.txt").read_bytes()
    ucf = open_format("ucf101", videos, lists, split=2)
    assert ucf.classes() == CLASSES
    train, test = ucf.samples("train"), ucf.samples("test")
    assert len(train) == 6 and len(test) == 3
    assert all("_g02_" in s.path.name for s in test) and not any("_g02_" in s.path.name for s in train)
    for sample in train + test:  # the folder is the class, as classInd numbers it (1-based there, 0-based here)
        assert CLASSES[sample.label] == sample.path.parent.name and sample.path.is_file()
    assert [s.path.name for s in test if s.label == 2] == ["v_HandStandPushups_g02_c01.avi"]
    assert ucf.samples("val") == test  # no published val split: the test list


def test_a_split_that_does_not_exist_is_named(published_dataset):
    videos, lists = published_dataset("ucf101")
    with pytest.raises(DatasetError, match="ucf101: split 4 does not exist"):
        open_format("ucf101", videos, lists, split=4)


@pytest.mark.parametrize("line, problem", [
    ("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 2", "class index 2 is BandMarching, but the video is in ApplyEyeMakeup/"),
    ("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 102", r"class index '102' is not in classInd.txt \(1..3\)"),
    ("Juggling/v_Juggling_g01_c01.avi 1", "unknown class 'Juggling'"),
    ("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi", "expected '<Class>/<video>.avi <class index>'"),
    ("ApplyEyeMakeup/v_ApplyEyeMakeup_g09_c01.avi 1", "video not found: .*v_ApplyEyeMakeup_g09_c01.avi"),
])
def test_bad_lines_are_named(published_dataset, tmp_path, line, problem):
    videos, lists = published_dataset("ucf101")
    mine = tmp_path / "lists"
    shutil.copytree(lists, mine)
    (mine / "trainlist01.txt").write_bytes(b"ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi 1\r\n" + line.encode() + b"\r\n")
    with pytest.raises(DatasetError, match=f"{mine / 'trainlist01.txt'}:2: {problem}"):
        UCF101(videos, mine).videos("train")


def test_missing_videos_are_skipped_when_allowed(published_dataset, tmp_path):
    videos, lists = published_dataset("ucf101")
    partial = tmp_path / "UCF-101"
    shutil.copytree(videos, partial)
    shutil.rmtree(partial / "BandMarching")
    with pytest.raises(DatasetError, match=r"testlist01.txt:2: video not found"):
        UCF101(partial, lists).videos("test")
    assert len(UCF101(partial, lists, allow_missing=True).videos("test")) == 2
