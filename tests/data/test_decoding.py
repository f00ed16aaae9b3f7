import subprocess

import pytest
import torch

from vidcls.data.decoding import VideoReader
from vidcls.errors import VideoReadError


def ffmpeg_frame(path, index: int, width: int, height: int) -> torch.Tensor:
    """Frame ``index`` as FFmpeg's own command line decodes it, C×H×W uint8."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{index})", "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(height, width, 3).permute(2, 0, 1)


def test_info_describes_the_timeline(make_counter_video):
    info = VideoReader(make_counter_video(num_frames=24, fps=12)).info
    assert (info.num_frames, info.fps, info.width, info.height) == (24, 12.0, 48, 32)
    assert info.duration == pytest.approx(2.0)


@pytest.mark.parametrize("seek_mode", ["approximate", "exact"])
def test_frames_at_times_are_the_frames_shown_then(make_counter_video, seek_mode):
    reader = VideoReader(make_counter_video(num_frames=24, fps=12), seek_mode=seek_mode)
    times = [0.0, 0.49, 1.0, 1.26, 1.99]
    frames = reader.frames_at(times)
    assert frames.shape == (5, 3, 32, 48) and frames.dtype == torch.uint8
    levels = frames.float().mean(dim=(1, 2, 3))
    expected = torch.tensor([10.0 * int(t * 12) for t in times])
    assert torch.allclose(levels, expected, atol=3)


def test_frames_equal_ffmpeg_output(synth_root):
    path = next((synth_root / "train" / "moving_left").iterdir())
    reader = VideoReader(path)
    for time in (0.0, 0.7, 1.55, 2.95):
        index = int(time * reader.info.fps)
        ours = reader.frames_at([time])[0]
        assert torch.equal(ours, ffmpeg_frame(path, index, reader.info.width, reader.info.height)), time


def test_times_past_the_end_repeat_the_last_frame(make_counter_video):
    reader = VideoReader(make_counter_video(num_frames=12, fps=12))
    frames = reader.frames_at([-1.0, 0.95, 5.0])
    levels = frames.float().mean(dim=(1, 2, 3)).tolist()
    assert levels == pytest.approx([0, 110, 110], abs=3)


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01 definitely not a video" * 100, b"ftypisom" + bytes(range(256)) * 20],
    ids=["empty", "random-bytes", "fake-header"],
)
def test_unreadable_files_raise_one_error_naming_the_file(tmp_path, content):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoReadError) as caught:
        VideoReader(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(VideoReadError, match="nope.mp4"):
        VideoReader(tmp_path / "nope.mp4")


def test_real_media_decodes(media_dir):
    for path in sorted(media_dir.iterdir()):
        reader = VideoReader(path)
        frames = reader.frames_at([0.0, reader.info.duration / 2])
        assert frames.shape[:2] == (2, 3), path
        assert frames.float().std() > 1, f"{path}: decoded frames are flat"
