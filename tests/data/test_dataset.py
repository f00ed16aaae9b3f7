import csv

import pytest
import torch

from tests.helpers.decoding import stuck_on
from vidcls.data.dataset import VideoClipDataset
from vidcls.data.decoding import DecoderSettings
from vidcls.data.sources import Span, VideoSample
from vidcls.data.transforms import EvalPreset
from vidcls.errors import VideoReadError


def make_dataset(samples, tmp_path, **kwargs):
    transform = EvalPreset(crop_size=32, resize_size=32)
    return VideoClipDataset(samples, transform=transform, sampling="centre", num_frames=4,
                            bad_video_log=tmp_path / "bad_videos.csv", **kwargs)


def test_clip_has_model_layout_and_identifies_its_video(make_counter_video, tmp_path):
    dataset = make_dataset([VideoSample(make_counter_video(), 3)], tmp_path)
    item = dataset[0]
    assert item["video"].shape == (3, 4, 32, 32) and item["label"] == 3 and item["index"] == 0


def test_unreadable_video_is_replaced_deterministically_and_logged(make_counter_video, tmp_path):
    good = [VideoSample(make_counter_video(f"good{i}.mp4"), i) for i in range(3)]
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    samples = [*good, VideoSample(broken, 9)]
    first = make_dataset(samples, tmp_path, seed=7)[3]
    again = make_dataset(samples, tmp_path, seed=7)[3]
    assert first["label"] in (0, 1, 2) and first["label"] == again["label"]
    assert torch.equal(first["video"], again["video"])
    with open(tmp_path / "bad_videos.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 2 and {row[0] for row in rows} == {str(broken)}
    assert rows[0][1] and "\n" not in rows[0][1]


def test_all_unreadable_fails_with_a_clear_error(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"")
    dataset = make_dataset([VideoSample(broken, 0)], tmp_path, max_replacements=3)
    with pytest.raises(VideoReadError, match="3 replacement videos in a row failed") as caught:
        dataset[0]
    assert caught.value.path == broken and caught.value.reason.startswith("it and 3 replacement videos")


def test_repeated_clips_are_random_clips_at_the_requested_times(make_counter_video, tmp_path):
    # frame i of the counter video is grey level 10 * i; 1 s clips of 4 frames at 12 fps span 11 frames
    video = make_counter_video(num_frames=24, fps=12)  # levels up to 230: no wrap-around
    dataset = VideoClipDataset([VideoSample(video, 0)], transform=lambda frames: frames, sampling="random",
                               clips_per_video=3, clip_duration=1.0, num_frames=4)
    torch.manual_seed(0)
    clips = dataset[0]["video"]
    assert clips.shape == (3, 4, 3, 32, 48)
    frame_index = (clips.float().mean(dim=(2, 3, 4)) / 10).round()
    for indices in frame_index:
        assert indices[-1] - indices[0] == 11 and torch.all(indices.diff() > 0)
    assert len(set(frame_index[:, 0].tolist())) > 1  # independent starts


def test_a_decode_past_the_timeout_is_replaced_and_logged(make_counter_video, tmp_path, monkeypatch):
    slow = make_counter_video("slow.mp4")
    good = [VideoSample(make_counter_video(f"good{i}.mp4"), i) for i in range(2)]
    dataset = make_dataset([*good, VideoSample(slow, 7)], tmp_path, decoding=DecoderSettings(decode_timeout=0.5))
    with stuck_on(slow, monkeypatch):
        item = dataset[2]
        assert item["label"] in (0, 1)
        assert dataset[0]["label"] == 0  # later reads work on a fresh thread
    rows = (tmp_path / "bad_videos.csv").read_text().splitlines()
    assert rows and set(rows) == {f"{slow},decoding took longer than 0.5 s"}


def decoded_indices(clips: torch.Tensor) -> list[list[int]]:
    """Frame indices of a counter video's clips ``V×T×C×H×W`` (frame i is grey level 10 i)."""
    return (clips.float().mean(dim=(-3, -2, -1)) / 10).round().int().tolist()


def test_segment_sampling_reads_each_parts_centre_frame(make_counter_video):
    # 24 frames in 4 parts of 6: centres 3, 9, 15, 21; two views: offsets 1/4 and 3/4 of each part
    video = make_counter_video(num_frames=24, fps=12)
    one = VideoClipDataset([VideoSample(video, 0)], transform=lambda frames: frames, sampling="centre", num_frames=4,
                           segments=True)
    assert decoded_indices(one[0]["video"][None]) == [[3, 9, 15, 21]]
    views = VideoClipDataset([VideoSample(video, 0)], transform=lambda frames: frames, num_clips=2, num_frames=4,
                             segments=True)
    assert decoded_indices(views[0]["video"]) == [[1, 7, 13, 19], [4, 10, 16, 22]]


def test_spans_bound_training_and_evaluation_clips(make_counter_video):
    # Diving-48's frames [6, 18) of 24: 12 frames, parts of 3, centres 6 + 1, 4, 7, 10
    video = make_counter_video(num_frames=24, fps=12)
    frames_span = VideoSample(video, 0, Span(6, 18, in_frames=True))
    evaluation = VideoClipDataset([frames_span], transform=lambda frames: frames, sampling="centre", num_frames=4,
                                  segments=True)
    assert decoded_indices(evaluation[0]["video"][None]) == [[7, 10, 13, 16]]
    training = VideoClipDataset([frames_span], transform=lambda frames: frames, sampling="random", num_frames=4,
                                segments=True, clips_per_video=20)
    torch.manual_seed(0)
    for indices in decoded_indices(training[0]["video"]):
        assert all(6 + 3 * i <= index < 9 + 3 * i for i, index in enumerate(indices))
    # a span in seconds, dense clips of 0.5 s (6 frames, 3 kept): inside [1 s, 1.5 s) = frames 12..17
    seconds_span = VideoSample(video, 0, Span(1.0, 1.5))
    dense = VideoClipDataset([seconds_span], transform=lambda frames: frames, sampling="random", num_frames=3,
                             clip_duration=0.5, clips_per_video=10)
    assert decoded_indices(dense[0]["video"]) == [[12, 14, 17]] * 10  # the span is one clip long: nowhere else to go
    longer = VideoClipDataset([seconds_span], transform=lambda frames: frames, sampling="centre", num_frames=3,
                              clip_duration=1.0)
    assert decoded_indices(longer[0]["video"][None]) == [[12, 17, 17]]  # a clip longer than the span repeats its end
