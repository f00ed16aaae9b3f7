"""Something-Something v2 read from its published JSON: templates are the classes, labels.json orders them."""

import json
import shutil

import pytest

from vidcls.data.decoding import VideoReader
from vidcls.data.formats import SomethingSomethingV2, open_format
from vidcls.errors import DatasetError


def test_classes_in_index_order_and_items_by_template(published_dataset):
    videos, labels = published_dataset("ssv2")
    ssv2 = open_format("ssv2", videos, labels)
    classes = ["Approaching something with your camera", "Holding something next to something",
               "Pushing something from left to right"]
    assert ssv2.classes() == classes
    train = ssv2.samples("train")
    assert len(train) == 6 and sorted(s.label for s in train) == [0, 0, 1, 1, 2, 2]
    items = json.loads((labels / "something-something-v2-train.json").read_text())
    for item, sample in zip(items, train):
        assert sample.path == videos / f"{item['id']}.webm"
        assert classes[sample.label] == item["template"].replace("[", "").replace("]", "")
    assert ssv2.samples("test") == ssv2.samples("val") and len(ssv2.samples("val")) == 3
    assert ssv2.test_videos() == [videos / "1999.webm"]
    with VideoReader(train[0].path) as reader:  # a VP9 WebM, as published
        assert reader.info.num_frames == 24


@pytest.mark.parametrize("items, problem", [
    ([{"id": "1000", "template": "Holding [something] next to [something]"}, {"id": "1001"}], "item 1: missing template"),
    ([{"id": "1000", "template": "Juggling [something]"}], r"item 0 \(id 1000\): unknown class 'Juggling something'"),
    ([{"id": "4242", "template": "Holding [something] next to [something]"}], r"item 0 \(id 4242\): video not found"),
    ({"id": "1000"}, "expected a JSON list of items"),
])
def test_bad_items_are_named(published_dataset, tmp_path, items, problem):
    videos, labels = published_dataset("ssv2")
    mine = tmp_path / "labels"
    shutil.copytree(labels, mine)
    (mine / "something-something-v2-train.json").write_text(json.dumps(items))
    with pytest.raises(DatasetError, match=f"{mine / 'something-something-v2-train.json'}: {problem}"):
        SomethingSomethingV2(videos, mine).videos("train")


def test_broken_json_names_its_line(published_dataset, tmp_path):
    videos, labels = published_dataset("ssv2")
    mine = tmp_path / "labels"
    shutil.copytree(labels, mine)
    (mine / "something-something-v2-validation.json").write_text('[\n{"id": "1000",\n')
    with pytest.raises(DatasetError, match="something-something-v2-validation.json:3: not valid JSON"):
        SomethingSomethingV2(videos, mine).videos("val")
    with pytest.raises(DatasetError, match="ssv2: split 2 does not exist"):
        open_format("ssv2", videos, labels, split=2)
