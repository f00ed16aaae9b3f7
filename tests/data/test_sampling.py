import math

import pytest
import torch

from vidcls.data.info import VideoInfo
from vidcls.data.sampling import (
    clip_frame_times,
    random_clip_start,
    random_segment_frame_times,
    segment_frame_times,
    span_timeline,
    uniform_clip_starts,
    window_starts,
)

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


def frame_indices(info: VideoInfo, times: list[float]) -> list[int]:
    """The frame each time falls in (times are frame middles: exact to the frame)."""
    return [int((t - info.begin) * info.fps) for t in times]


def test_segment_sampling_takes_each_parts_centre_frame():
    # 300 frames in 8 parts of 37.5: centres floor(37.5 * (i + 0.5)), TSN's test indices
    (times,) = segment_frame_times(TEN_SECONDS, 8)
    assert frame_indices(TEN_SECONDS, times) == [18, 56, 93, 131, 168, 206, 243, 281]
    assert times[0] == pytest.approx(0.5 + 18.5 / 30)


def test_segment_views_spread_within_each_part():
    # two views of 8 parts: offsets 1/4 and 3/4 of each 37.5-frame part
    first, second = segment_frame_times(TEN_SECONDS, 8, views=2)
    assert frame_indices(TEN_SECONDS, first) == [9, 46, 84, 121, 159, 196, 234, 271]
    assert frame_indices(TEN_SECONDS, second) == [28, 65, 103, 140, 178, 215, 253, 290]


def test_random_segment_frames_stay_in_their_part_and_cover_it():
    generator = torch.Generator().manual_seed(0)
    draws = [frame_indices(TEN_SECONDS, random_segment_frame_times(TEN_SECONDS, 8, generator)) for _ in range(400)]
    for part in range(8):
        seen = {indices[part] for indices in draws}
        # part i is frames [37.5 i, 37.5 (i + 1)): a frame that straddles two parts can come from either
        assert min(seen) == math.floor(37.5 * part) and max(seen) == math.ceil(37.5 * (part + 1)) - 1
        assert len(seen) == max(seen) - min(seen) + 1


def test_more_parts_than_frames_repeat_frames():
    three = VideoInfo(begin=0.0, end=0.3, fps=10.0, num_frames=3, width=8, height=8)
    assert frame_indices(three, segment_frame_times(three, 6)[0]) == [0, 0, 1, 1, 2, 2]


def test_span_narrows_the_timeline():
    # frames 60..120 of the 30 fps video that starts at 0.5 s
    span = span_timeline(TEN_SECONDS, 2.0, 4.0)
    assert (span.begin, span.end, span.num_frames) == (pytest.approx(2.5), pytest.approx(4.5), 60)
    (times,) = segment_frame_times(span, 4)
    assert [round((t - 0.5) * 30 - 0.5) for t in times] == [67, 82, 97, 112]  # 60 + floor(15 * (i + 0.5))
    starts = [random_clip_start(span, 1.0, torch.Generator().manual_seed(s)) for s in range(50)]
    assert min(starts) >= 2.5 and max(starts) <= 3.5  # a 1 s training clip stays inside the 2 s span
    assert uniform_clip_starts(span, 1.0, 2) == pytest.approx([2.75, 3.25])  # evaluation views spread over it


def test_span_past_the_video_is_clamped():
    span = span_timeline(TEN_SECONDS, 9.0, 20.0)
    assert (span.begin, span.end) == (pytest.approx(9.5), pytest.approx(10.5))
    late = span_timeline(TEN_SECONDS, 30.0, 31.0)
    assert late.end == pytest.approx(10.5) and late.num_frames == 1
