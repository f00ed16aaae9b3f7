"""The test video generator makes what it is asked for, as FFmpeg's own ffprobe reads it."""

import json
import subprocess

import pytest

from tests.helpers.videos import make_video


def probe(path) -> dict:
    command = ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", str(path)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


@pytest.mark.parametrize(("name", "options", "codec"), [
    ("counter.mp4", {}, "h264"),
    ("shapes.webm", {"pattern": "testsrc2", "codec": "libvpx-vp9", "options": ("-deadline", "realtime")}, "vp9"),
    ("bars.avi", {"pattern": "testsrc", "codec": None, "audio": True}, "mpeg4"),  # the container's default codec
])
def test_frames_rate_size_codec_and_audio_are_as_asked(tmp_path, name, options, codec):
    info = probe(make_video(tmp_path / name, frames=15, fps=10, size=(64, 48), **options))
    video = next(stream for stream in info["streams"] if stream["codec_type"] == "video")
    assert (video["codec_name"], video["width"], video["height"], video["nb_read_frames"]) == (codec, 64, 48, "15")
    assert video["avg_frame_rate"] == "10/1" and video["pix_fmt"] == "yuv420p"
    assert [s["codec_type"] for s in info["streams"]].count("audio") == options.get("audio", False)


def test_keyframe_interval_and_faststart(tmp_path):
    path = make_video(tmp_path / "gop.mp4", frames=20, pattern="testsrc2", keyframe_interval=5, faststart=True)
    command = ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=flags", "-of", "csv=p=0", str(path)]
    flags = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()
    assert [i for i, flag in enumerate(flags) if flag.startswith("K")] == [0, 5, 10, 15]
    data = path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # the index at the front
