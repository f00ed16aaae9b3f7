"""Selective decoding returns exactly the frames a full decode shows at the requested times."""

import random
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from tests.helpers.videos import make_video
from vidcls.data.decoding import VideoReader
from vidcls.data.selective import SelectiveDecoder, plan_decode

ENCODINGS = {  # name: (file suffix, make_video's encoding options)
    "h264-bframes": (".mp4", {}),  # x264's defaults: B-frames, a keyframe every 250 frames
    "h264-gop8": (".mp4", {"keyframe_interval": 8}),
    "h264-open-gop": (".mp4", {"options": ("-x264-params", "open-gop=1:keyint=20")}),
    "h264-matroska": (".mkv", {"keyframe_interval": 12}),
    "vp9-webm": (".webm", {"codec": "libvpx-vp9", "keyframe_interval": 15, "options": ("-deadline", "realtime")}),
    "mpeg4-bframes": (".mp4", {"codec": "mpeg4", "keyframe_interval": 12, "options": ("-bf", "2")}),
}


def encode(path, **encoding):
    """3 s of moving shapes with temporal noise at 25 fps, 96x64, encoded as ``encoding`` says."""
    return make_video(path, frames=75, fps=25, size=(96, 64), pattern="noisy", **encoding)


def frames_by_pts(path):
    """Every frame of the file, decoded front to back: the ground truth, keyed by pts."""
    with av.open(str(path)) as container:
        return {frame.pts: frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)}


def shown_at(truth, time_base, t):
    earlier = [pts for pts in truth if pts * time_base <= t + 1e-9]
    return truth[max(earlier) if earlier else min(truth)]


@pytest.mark.parametrize("name", ENCODINGS)
def test_frames_equal_a_full_decode(tmp_path, name):
    suffix, options = ENCODINGS[name]
    path = encode(tmp_path / f"{name}{suffix}", **options)
    truth = frames_by_pts(path)
    reader = VideoReader(path)
    assert reader._selective is not None  # these containers are read selectively
    time_base = reader._selective.stream.time_base
    rng = random.Random(0)
    for _ in range(12):
        times = [rng.uniform(0, 2.96) for _ in range(rng.choice([1, 4, 8]))]  # unsorted, as several clips give
        frames = reader.frames_at(times).permute(0, 2, 3, 1).numpy()
        for frame, t in zip(frames, times):
            assert np.array_equal(frame, shown_at(truth, time_base, t)), (name, t)


def test_audio_track_is_ignored(tmp_path):
    path = encode(tmp_path / "with_audio.mp4", audio=True, options=("-c:a", "aac"))
    truth = frames_by_pts(path)
    reader = VideoReader(path)
    frames = reader.frames_at([0.5, 1.7]).permute(0, 2, 3, 1).numpy()
    time_base = reader._selective.stream.time_base
    assert all(np.array_equal(f, shown_at(truth, time_base, t)) for f, t in zip(frames, [0.5, 1.7]))


def test_decoders_agree_on_info_and_frames(tmp_path):
    path = encode(tmp_path / "clip.mp4", **ENCODINGS["h264-bframes"][1])
    pyav, torchcodec = VideoReader(path), VideoReader(path, decoder="torchcodec")
    assert pyav.info == torchcodec.info
    times = [0.0, 0.9, 1.33, 2.5, 2.99]
    assert torch.equal(pyav.frames_at(times), torchcodec.frames_at(times))


def test_avi_is_read_with_torchcodec(tmp_path):
    path = encode(tmp_path / "clip.avi", codec="mpeg4", options=("-bf", "2"))  # packed B-frames: no true timestamps
    reader = VideoReader(path)
    assert reader._selective is None
    assert reader.frames_at([0.2, 2.0]).shape == (2, 3, 64, 96)


def test_decode_returns_one_frame_per_time_unconverted(tmp_path):
    path = encode(tmp_path / "clip.mp4", **ENCODINGS["h264-gop8"][1])
    frames = SelectiveDecoder.open(path).decode([0.1, 0.1, 2.0])
    assert len(frames) == 3 and frames[0] is frames[1] and frames[0].format.name == "yuv420p"


# plan_decode on hand-made timelines: pts in frame units, packets in decode order


def test_targets_in_one_group_are_one_run_from_its_keyframe():
    pts = [0, 1, 2, 3, 4, 5, 6, 7]
    keyframes = [True, False, False, False, True, False, False, False]
    plan = plan_decode(pts, keyframes, [5.5, 7])
    assert plan.runs == [(4, 7)] and plan.wanted == {5: [0], 7: [1]}


def test_far_targets_jump_to_their_keyframes():
    pts = list(range(12))
    keyframes = [i % 4 == 0 for i in range(12)]
    plan = plan_decode(pts, keyframes, [1, 9])
    assert plan.runs == [(0, 1), (8, 9)]  # packets 2-7 are never fed


def test_decoding_on_is_preferred_when_the_next_keyframe_is_adjacent():
    pts = list(range(8))
    keyframes = [i % 4 == 0 for i in range(8)]
    assert plan_decode(pts, keyframes, [3, 5]).runs == [(0, 5)]


def test_times_before_the_first_frame_show_the_first_frame():
    plan = plan_decode([10, 11, 12], [True, False, False], [0, 11])
    assert plan.wanted == {0: [0], 1: [1]}


def test_open_gop_leading_frame_starts_at_the_previous_keyframe():
    # decode order: I0 P3 B1 B2 | I6 B4 B5 (open GOP: B4, B5 are shown before I6 and reference P3)
    pts = [0, 3, 1, 2, 6, 4, 5]
    keyframes = [True, False, False, False, True, False, False]
    plan = plan_decode(pts, keyframes, [4])
    assert plan.runs == [(0, 5)] and plan.wanted == {5: [0]}


def test_decoder_threads_give_the_same_frames(tmp_path):
    path = encode(tmp_path / "clip.mp4", **ENCODINGS["h264-bframes"][1])
    times = [0.3, 0.35, 1.2, 2.9, 0.0]
    assert torch.equal(VideoReader(path, num_threads=2).frames_at(times), VideoReader(path).frames_at(times))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through Linux /proc")
def test_closing_readers_frees_their_files(tmp_path):
    path = encode(tmp_path / "clip.mp4", **ENCODINGS["h264-gop8"][1])
    open_files = len(list(Path("/proc/self/fd").iterdir()))
    for _ in range(5):
        with VideoReader(path) as reader:
            reader.frames_at([1.0])
    assert len(list(Path("/proc/self/fd").iterdir())) == open_files  # not left to the garbage collector
