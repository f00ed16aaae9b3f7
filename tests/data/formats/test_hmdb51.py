"""HMDB51 read from its published layout: per-class split files with tags and a trailing space, odd names."""

import shutil

import pytest

from vidcls.data.formats import HMDB51, open_format
from vidcls.errors import DatasetError


def test_tags_choose_train_and_test_videos(published_dataset):
    videos, splits = published_dataset("hmdb51")
    assert (splits / "clap_test_split1.txt").read_text().splitlines()[0].endswith(".avi 1 ")
    hmdb = open_format("hmdb51", videos, splits, split=3)
    assert hmdb.classes() == ["brush_hair", "clap", "fall_floor"]
    train = {(s.path.name, s.label) for s in hmdb.samples("train")}
    test = {(s.path.name, s.label) for s in hmdb.samples("test")}
    # split 3's tags (HMDB51_VIDEOS): 1 train, 2 test, 0 neither
    assert train == {("Brushing_Hair_with_Beth_brush_hair_h_nm_np1_le_goo_0.avi", 0),
                     ("Bruce_Lee_'s_(Clap)_Party_clap_f_nm_np1_le_bad_1.avi", 1),
                     ("Parkour_fall_floor_u_cm_np1_fr_med_0.avi", 2)}
    assert test == {("April_09_brush_hair_u_nm_np1_ba_goo_0.avi", 0), ("#20_Rhythm_clap_u_nm_np1_fr_goo_0.avi", 1),
                    ("Hand_Clap_Chiquita_Banana_&_Friends_clap_u_cm_np1_fr_med_0.avi", 1),
                    ("Bad_Fall_[Funny]_fall_floor_f_cm_np1_ba_bad_0.avi", 2)}
    assert all(s.path.is_file() for s in hmdb.samples("train") + hmdb.samples("val"))


def test_a_split_that_does_not_exist_is_named(published_dataset):
    videos, splits = published_dataset("hmdb51")
    with pytest.raises(DatasetError, match=r"hmdb51 split 4 does not exist .*found splits: 1, 2, 3"):
        HMDB51(videos, splits, split=4)


@pytest.mark.parametrize("line, problem", [
    ("Parkour_fall_floor_u_cm_np1_fr_med_0.avi 3 ", "expected '<name>.avi <tag>' with tag 0, 1 or 2"),
    ("Parkour_fall_floor_u_cm_np1_fr_med_0.avi", "expected '<name>.avi <tag>'"),
    ("Nobody_fall_floor_u_cm_np1_fr_med_0.avi 1 ", "video not found: .*Nobody_fall_floor"),
])
def test_bad_lines_are_named(published_dataset, tmp_path, line, problem):
    videos, splits = published_dataset("hmdb51")
    mine = tmp_path / "splits"
    shutil.copytree(splits, mine)
    (mine / "fall_floor_test_split1.txt").write_text(f"AMADEUS_fall_floor_f_nm_np1_ri_med_7.avi 1 \n{line}\n")
    with pytest.raises(DatasetError, match=f"{mine / 'fall_floor_test_split1.txt'}:2: {problem}"):
        HMDB51(videos, mine).videos("train")
