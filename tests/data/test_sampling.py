import pytest
import torch

from vidcls.data.info import VideoInfo
from vidcls.data.sampling import clip_frame_times, random_clip_start, uniform_clip_starts, window_starts

TEN_SECONDS = VideoInfo(begin=0.5, end=10.5, fps=30.0, num_frames=300, width=340, height=256)
ONE_SECOND = VideoInfo(begin=0.0, end=1.0, fps=30.0, num_frames=30, width=340, height=256)


def test_random_start_keeps_the_clip_inside_the_video():
    generator = torch.Generator().manual_seed(0)
    starts = [random_clip_start(TEN_SECONDS, 2.0, generator) for _ in range(500)]
    assert min(starts) >= 0.5 and max(starts) <= 8.5
    assert max(starts) - min(starts) > 7.5  # covers the whole range, not a corner of it


def test_random_start_is_seeded():
    first = [random_clip_start(TEN_SECONDS, 2.0, torch.Generator().manual_seed(3)) for _ in range(3)]
    again = [random_clip_start(TEN_SECONDS, 2.0, torch.Generator().manual_seed(3)) for _ in range(3)]
    assert first == again


def test_video_shorter_than_clip_starts_at_its_beginning():
    assert random_clip_start(ONE_SECOND, 2.0) == 0.0
    assert uniform_clip_starts(ONE_SECOND, 2.0, 3) == [0.0, 0.0, 0.0]


def test_uniform_starts_are_centred():
    assert uniform_clip_starts(TEN_SECONDS, 2.0) == [pytest.approx(4.5)]
    starts = uniform_clip_starts(TEN_SECONDS, 2.0, 4)
    assert starts == pytest.approx([1.5, 3.5, 5.5, 7.5])


def test_frame_times_span_the_clip_first_to_last_frame():
    times = clip_frame_times(start=1.0, clip_duration=2.0, num_frames=8, fps=30.0)
    assert len(times) == 8
    assert times[0] == pytest.approx(1.0) and times[-1] == pytest.approx(1.0 + 2.0 - 1 / 30)
    steps = [b - a for a, b in zip(times, times[1:])]
    assert max(steps) - min(steps) < 1e-9


def test_single_frame_is_the_clip_middle():
    assert clip_frame_times(0.0, 2.0, 1, 10.0) == [pytest.approx(0.95)]


def test_window_starts_reach_the_end():
    info = VideoInfo(begin=0.0, end=5.0, fps=10, num_frames=50, width=8, height=8)
    assert window_starts(info, window=2.0, stride=1.5) == [0.0, 1.5, 3.0]
    assert window_starts(info, window=2.0, stride=2.0) == [0.0, 2.0, 3.0]  # the tail gets its own window
    assert window_starts(info, window=8.0, stride=1.0) == [0.0]  # shorter than a window: one clamped clip
