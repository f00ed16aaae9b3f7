"""Diving-48 (V2) read from its published JSON: vocab classes, frame ranges as spans."""

import json
import shutil

import pytest

from vidcls.data.formats import Diving48, open_format
from vidcls.data.sources import Span
from vidcls.errors import DatasetError


def test_items_become_spans_of_frames_with_vocab_classes(published_dataset):
    videos, labels = published_dataset("diving48")
    diving = open_format("diving48", videos, labels)
    assert diving.classes() == ["Back 15som 05Twis FREE", "Back 15som 15Twis FREE", "Forward 35som NoTwis PIKE"]
    train, test = diving.samples("train"), diving.samples("test")
    assert len(train) == 6 and len(test) == 3 and diving.samples("val") == test
    assert [s.label for s in test] == [0, 1, 2]
    assert all(s.span == Span(6, 18, in_frames=True) and s.path.suffix == ".mp4" and s.path.is_file() for s in train)
    assert Span(6, 18, in_frames=True).seconds(12.0) == (0.5, 1.5)


@pytest.mark.parametrize("item, problem", [
    ({"vid_name": "-mmq0PT-u8k_train00", "label": 48, "start_frame": 0, "end_frame": 9}, r"label 48 is not a class index \(0..2\)"),
    ({"vid_name": "-mmq0PT-u8k_train00", "label": 0, "start_frame": 9, "end_frame": 9}, "need whole frames 0 <= start_frame < end_frame"),
    ({"vid_name": "-mmq0PT-u8k_train00", "label": 0, "end_frame": 9}, "missing start_frame"),
])
def test_bad_items_are_named(published_dataset, tmp_path, item, problem):
    videos, labels = published_dataset("diving48")
    mine = tmp_path / "labels"
    shutil.copytree(labels, mine)
    (mine / "Diving48_V2_train.json").write_text(json.dumps([item]))
    with pytest.raises(DatasetError, match=f"{mine / 'Diving48_V2_train.json'}: item 0"):
        Diving48(videos, mine).videos("train")
    with pytest.raises(DatasetError, match=problem):
        Diving48(videos, mine).videos("train")
