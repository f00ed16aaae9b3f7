"""The keyframe interval the data-bound advisor names, read from packets, equals FFmpeg's own count."""

import subprocess

import pytest

from vidcls.datatools.prepare import PrepareConfig, encode_video, keyframe_interval
from vidcls.errors import VideoReadError


def ffprobe_interval(path):
    flags = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags",
                            "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True).stdout.split()
    return len(flags) / sum(flag.startswith("K") for flag in flags)


def test_keyframe_interval_matches_ffprobe_before_and_after_prepare(make_counter_video, tmp_path):
    source = make_counter_video(num_frames=40)
    prepared = tmp_path / "prepared.mp4"
    encode_video(source, prepared, PrepareConfig(gop=5))
    assert keyframe_interval(prepared) == ffprobe_interval(prepared) <= 5
    assert keyframe_interval(source) == ffprobe_interval(source) > 5


def test_keyframe_interval_of_a_file_that_is_no_video_names_it(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(VideoReadError, match="notes.mp4"):
        keyframe_interval(text)
