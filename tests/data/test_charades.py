"""Charades as published: classes in the file's order, every action's class a label (each once), an empty ``actions``
a negative, quoted free text with commas; bad annotations are one line naming file, line and value."""

import re
import shutil

import pytest

from vidcls.data.charades import read_charades_classes, read_charades_split
from vidcls.errors import DatasetError


def test_labels_are_the_classes_of_a_videos_actions_in_the_files_order(charades_root, synth_root):
    classes = read_charades_classes(charades_root)
    assert list(classes.items())[:2] == [("c000", "Holding some clothes"), ("c001", "Putting clothes somewhere")]
    videos = read_charades_split(charades_root, "test", classes)
    assert len(videos) == 16 and all(video.path.parent.name == "Charades_v1_480" for video in videos)
    by_id = {video.path.stem: video for video in videos}
    assert by_id["TED00"].label == ("Holding some clothes", "Throwing clothes somewhere")  # moving_down
    assert by_id["TEL01"].label == ("Taking some clothes from somewhere", "Holding some clothes")  # c002 twice: once
    assert by_id["TER00"].label == ()  # no actions: a negative
    assert re.fullmatch(r".*Charades_v1_test\.csv:2", videos[0].origin)
    assert by_id["TED00"].path.read_bytes() == sorted((synth_root / "test" / "moving_down").glob("*.mp4"))[0].read_bytes()


def rewrite(root, split, old, new):
    path = root / f"Charades_v1_{split}.csv"
    path.write_text(path.read_text().replace(old, new, 1))
    return path


@pytest.mark.parametrize("actions, problem", [
    ("c000 0.00 1.50;c157 0.50 2.00", r"unknown class id 'c157'"),
    ("c000 0.00 1.50;c003 0.50 2.0o", r"malformed span in action 'c003 0\.50 2\.0o'"),
    ("c000 0.00 1.50;c003 0.50", r"malformed action 'c003 0\.50'"),
])
def test_a_bad_action_is_one_line_naming_file_line_and_value(charades_root, tmp_path, actions, problem):
    root = tmp_path / "charades"
    shutil.copytree(charades_root, root)
    path = root / "Charades_v1_train.csv"
    path.write_text(path.read_text().replace("c000 0.00 1.50;c003 0.50 2.00", actions, 1))  # the first video's
    with pytest.raises(DatasetError) as error:
        read_charades_split(root, "train", read_charades_classes(root))
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{path}:2: ") and re.search(problem, message)


def test_a_missing_video_or_file_is_named(charades_root, tmp_path):
    root = tmp_path / "charades"
    shutil.copytree(charades_root, root)
    (root / "Charades_v1_480" / "TRD00.mp4").unlink()
    with pytest.raises(DatasetError, match=r"Charades_v1_train\.csv:2: video not found: .*TRD00\.mp4$"):
        read_charades_split(root, "train", read_charades_classes(root))
    with pytest.raises(DatasetError, match=r"Charades has no val split"):
        read_charades_split(root, "val", {})
    (root / "Charades_v1_classes.txt").unlink()
    with pytest.raises(DatasetError, match=r"Charades_v1_classes\.txt: no such file"):
        read_charades_classes(root)
