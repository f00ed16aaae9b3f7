"""Charades as published: classes in the file's order, every action's class a label (each once), an empty ``actions``
a negative, quoted free text with commas; bad annotations are one line naming file, line and value."""

import shutil

import pytest

from vidcls.data.formats import open_format
from vidcls.errors import DatasetError


def charades(root):
    return open_format("charades", root / "Charades_v1_480", root / "Charades")


def test_labels_are_the_classes_of_a_videos_actions_in_the_files_order(charades_root, synth_root):
    dataset = charades(charades_root)
    assert dataset.multilabel and dataset.classes() == ["Holding some clothes", "Putting clothes somewhere",
                                                        "Taking some clothes from somewhere", "Throwing clothes somewhere"]
    videos = dataset.videos("test")
    assert len(videos) == 16 and all(video.path.parent.name == "Charades_v1_480" for video in videos)
    by_id = {video.path.stem: video for video in videos}
    assert by_id["TED00"].label == ("Holding some clothes", "Throwing clothes somewhere")  # moving_down
    assert by_id["TEL01"].label == ("Taking some clothes from somewhere", "Holding some clothes")  # c002 twice: once
    assert by_id["TER00"].label == ()  # no actions: a negative
    assert videos[0].origin == f"{charades_root / 'Charades' / 'Charades_v1_test.csv'}:2"
    assert by_id["TED00"].path.read_bytes() == sorted((synth_root / "test" / "moving_down").glob("*.mp4"))[0].read_bytes()
    assert [sample.label for sample in dataset.samples("test")[:2]] == [(0, 3), (0, 3)]
    assert [video.path for video in dataset.videos("val")] == [video.path for video in videos]  # none published


@pytest.mark.parametrize("actions, problem", [
    ("c000 0.00 1.50;c157 0.50 2.00", "unknown class id 'c157' in action 'c157 0.50 2.00' (not in Charades_v1_classes.txt)"),
    ("c000 0.00 1.50;c003 0.50 2.0o", "malformed span in action 'c003 0.50 2.0o': start and end must be seconds"),
    ("c000 0.00 1.50;c003 0.50", "malformed action 'c003 0.50' (expected 'class start end', as 'c092 11.90 21.20')"),
])
def test_a_bad_action_is_one_line_naming_file_line_and_value(charades_root, tmp_path, actions, problem):
    root = tmp_path / "charades"
    shutil.copytree(charades_root, root)
    path = root / "Charades" / "Charades_v1_train.csv"
    path.write_text(path.read_text().replace("c000 0.00 1.50;c003 0.50 2.00", actions, 1))  # the first video's
    with pytest.raises(DatasetError) as error:
        charades(root).videos("train")
    assert str(error.value) == f"{path}:2: {problem}"


def test_a_missing_video_or_annotation_file_is_named(charades_root, tmp_path):
    root = tmp_path / "charades"
    shutil.copytree(charades_root, root)
    (root / "Charades_v1_480" / "TRD00.mp4").unlink()
    with pytest.raises(DatasetError, match=r"Charades_v1_train\.csv:2: video not found: .*TRD00\.mp4"):
        charades(root).videos("train")
    assert len(open_format("charades", root / "Charades_v1_480", root / "Charades", allow_missing=True).videos("train")) == 11
    (root / "Charades" / "Charades_v1_classes.txt").write_text("c000 Holding some clothes\nc001 Holding some clothes\n")
    with pytest.raises(DatasetError, match=r"Charades_v1_classes\.txt:2: expected a new class id and its own name"):
        charades(root)
    (root / "Charades" / "Charades_v1_classes.txt").unlink()
    with pytest.raises(DatasetError, match=r"Charades_v1_classes\.txt: no such file \(Charades' class list\)"):
        charades(root)
