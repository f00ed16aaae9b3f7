"""Prediction: `vidcls predict` (JSON, table, errors per file, folders, timeline) and the Predictor API."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch

from tests.helpers.decoding import stuck_on
from vidcls.cli import main
from vidcls.clip import ClipSpec
from vidcls.data.dataset import VideoClipDataset
from vidcls.data.decoding import DecoderSettings
from vidcls.data.sources import VideoSample
from vidcls.data.transforms import multi_view_transform
from vidcls.datatools.synthetic import SynthConfig, render_video, write_video
from vidcls.errors import VidclsError
from vidcls.inference.predictor import Predictor
from vidcls.inference.timeline import Window, merge_windows
from vidcls.models.checkpoint import load_network


@pytest.fixture
def video(synth_root):
    return synth_root / "test" / "moving_up" / "moving_up_0000.mp4"


def predict(capsys, *args):
    """Run `vidcls predict ARGS`: (exit status, stdout)."""
    with pytest.raises(SystemExit) as exit_:
        main(["predict", *map(str, args)])
    return exit_.value.code, capsys.readouterr().out


def assert_ranked(predictions, top_k, classes):
    probabilities = [p["probability"] for p in predictions]
    assert len(predictions) == top_k
    assert {p["class"] for p in predictions} <= set(classes)
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0 <= sum(probabilities) <= 1 + 1e-6


def test_predict_json_lists_top_k_classes_of_the_checkpoint(tiny_checkpoint, video, capsys, few_classes):
    status, out = predict(capsys, "--checkpoint", tiny_checkpoint, "--top-k", 3, "--json", video)
    (entry,) = json.loads(out)
    assert status == 0 and entry["path"] == str(video)
    assert_ranked(entry["predictions"], 3, few_classes)


def table_rows(out):
    """The body rows of the rich tables in ``out``, as lists of stripped cells (the header row is the first)."""
    return [[cell.strip() for cell in line.strip().strip("│┃").split("│" if "│" in line else "┃")]
            for line in out.splitlines() if line.strip().startswith(("│", "┃"))]


def test_predict_table_shows_what_json_gives(tiny_checkpoint, video, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # rich wraps to the terminal's width
    _, out = predict(capsys, "--checkpoint", tiny_checkpoint, "--json", video)
    (expected,) = json.loads(out)
    status, out = predict(capsys, "--checkpoint", tiny_checkpoint, video)
    header, *rows = table_rows(out)
    assert status == 0 and header == ["video", "class", "probability"]
    assert [row[0] for row in rows] == [str(video), "", "", ""]  # top-5 of 4 classes: all of them, one row each
    assert [row[1:] for row in rows] == [[p["class"], f"{p['probability']:.3f}"] for p in expected["predictions"]]

    _, out = predict(capsys, "--checkpoint", tiny_checkpoint, "--json", "--timeline", video)
    (expected,) = json.loads(out)
    status, out = predict(capsys, "--checkpoint", tiny_checkpoint, "--timeline", video)
    assert status == 0 and out.splitlines()[0] == str(video)  # the path above its table
    header, *rows = table_rows(out)
    assert header == ["start (s)", "end (s)", "class", "score"]
    assert rows == [[f"{s['start']:.2f}", f"{s['end']:.2f}", s["label"], f"{s['score']:.3f}"] for s in expected["segments"]]


def test_bad_files_are_error_entries_and_the_others_go_on(tiny_checkpoint, video, tmp_path, capsys, few_classes):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"not a video" * 100)
    missing = tmp_path / "missing.mp4"
    status, out = predict(capsys, "--checkpoint", tiny_checkpoint, "--json", corrupt, video, missing)
    bad, good, absent = json.loads(out)
    assert status == 1
    assert bad["path"] == str(corrupt) and bad["error"] and "predictions" not in bad
    assert_ranked(good["predictions"], 4, few_classes)
    assert absent == {"path": str(missing), "error": "no such file or folder"}


def test_folders_expand_to_their_videos_sorted(tiny_checkpoint, synth_root, tmp_path, capsys):
    folder = tmp_path / "videos"
    for name in ("b/second.mp4", "a/first.MP4", "c.mkv"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(synth_root / "val" / "moving_left" / "moving_left_0000.mp4", folder / name)
    (folder / "notes.txt").write_text("not a video")
    (tmp_path / "empty").mkdir()
    status, out = predict(capsys, "--checkpoint", tiny_checkpoint, "--json", "--top-k", 1, folder, tmp_path / "empty")
    entries = json.loads(out)
    assert [e["path"] for e in entries] == [str(folder / "a/first.MP4"), str(folder / "b/second.mp4"),
                                            str(folder / "c.mkv"), str(tmp_path / "empty")]
    assert all(len(e["predictions"]) == 1 for e in entries[:3])
    assert entries[3]["error"] == "folder has no video files" and status == 1


def test_timeline_windows_cover_the_video_and_segments_tile_it(tiny_checkpoint, tmp_path, capsys, few_classes):
    # 9 s: three 3 s synthetic videos of different motions, end to end
    config = SynthConfig(seed=3)
    rng = np.random.default_rng(0)
    motions = ("moving_left", "moving_up", "moving_right")
    frames = np.concatenate([render_video(motion, rng, config) for motion in motions])
    long_video = tmp_path / "long.mp4"
    write_video(frames, long_video, config.fps)
    duration = len(frames) / config.fps

    status, out = predict(capsys, "--checkpoint", tiny_checkpoint, "--json", "--timeline", "--stride", 0.75, "--top-k", 2,
                          long_video)
    (entry,) = json.loads(out)
    windows, segments = entry["windows"], entry["segments"]
    assert status == 0
    assert windows[0]["start"] == 0 and windows[-1]["end"] == pytest.approx(duration)
    assert all(w["end"] - w["start"] == pytest.approx(2.0) for w in windows)  # the training clip duration
    assert all(b["start"] - a["start"] <= 0.75 + 1e-6 for a, b in zip(windows, windows[1:]))
    for window in windows:
        assert_ranked(window["predictions"], 2, few_classes)
    assert segments[0]["start"] == 0 and segments[-1]["end"] == pytest.approx(duration)
    assert all(a["end"] == b["start"] and a["label"] != b["label"] for a, b in zip(segments, segments[1:]))
    assert all(0 < s["score"] <= 1 and s["label"] in few_classes for s in segments)


def test_merge_windows_splits_at_midpoints_between_window_centres():
    windows = [Window(start, start + 2, [(label, p)]) for start, label, p in
               [(0, "a", 0.6), (1, "a", 0.8), (2, "b", 0.9), (3, "a", 0.5)]]
    segments = merge_windows(windows, duration=5.0)
    assert [(s.start, s.end, s.label) for s in segments] == [(0, 2.5, "a"), (2.5, 3.5, "b"), (3.5, 5.0, "a")]
    assert segments[0].score == pytest.approx(0.7)


def test_python_api_uses_the_checkpoints_clip(tiny_checkpoint, video, few_classes):
    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu")
    assert predictor.classes == sorted(few_classes)
    assert predictor.clip == ClipSpec(num_frames=4, crop_size=32, min_scale=32, max_scale=36, eval_resize=32)
    ranked = predictor.predict(video, top_k=10)
    assert sorted(name for name, _ in ranked) == sorted(few_classes)
    assert sum(p for _, p in ranked) == pytest.approx(1, abs=1e-5)  # all classes: the softmax sums to 1


def test_predictor_feeds_the_network_clips_made_as_its_clip_says(tiny_checkpoint, video):
    loaded = load_network(tiny_checkpoint)
    seen = []
    loaded.network.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    clip = ClipSpec(num_frames=6, clip_duration=1.0, crop_size=24, min_scale=24, max_scale=24, eval_resize=24,
                    mean=(0.5,) * 3, std=(0.5,) * 3)  # simple3d takes any clip size
    Predictor(loaded.network, clip, loaded.classes, num_clips=3, batch_size=2, device="cpu").predict(video)
    assert [tuple(batch.shape) for batch in seen] == [(2, 3, 6, 24, 24), (1, 3, 6, 24, 24)]
    clips = torch.cat(seen)
    assert clips.min() >= -1 - 1e-6 and clips.max() <= 1 + 1e-6  # mean 0.5, std 0.5: pixels in [-1, 1]
    assert not torch.equal(clips[0], clips[2])  # three positions along the video, not one clip thrice


def with_test_views(checkpoint, path, test_clips, test_crops):
    """A copy of ``checkpoint`` at ``path`` whose clip says ``test_clips`` × ``test_crops`` test views."""
    stored = torch.load(checkpoint, map_location="cpu", weights_only=True)
    stored["hyper_parameters"]["clip"] |= {"test_clips": test_clips, "test_crops": test_crops}
    torch.save(stored, path)
    return path


def scores_as_tested(network, clip, video, classes):
    """Class → probability as `vidcls test` scores ``video``: the dataset's test views, softmax averaged over them."""
    dataset = VideoClipDataset([VideoSample(video, 0)], transform=multi_view_transform(clip), num_clips=clip.test_clips,
                               clip_duration=clip.clip_duration, num_frames=clip.num_frames)
    views = dataset.read_clip(0)["video"]
    assert len(views) == clip.test_clips * clip.test_crops
    with torch.inference_mode():
        probabilities = network(views).softmax(-1).mean(0)
    return dict(zip(classes, probabilities.tolist()))


def test_predict_scores_the_checkpoints_test_views_unless_told(tiny_checkpoint, video, tmp_path, capsys):
    checkpoint = with_test_views(tiny_checkpoint, tmp_path / "views.ckpt", 2, 3)
    predictor = Predictor.from_checkpoint(checkpoint, device="cpu")
    seen = []
    predictor.network.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    ranked = predictor.predict(video, top_k=4)
    views = torch.cat(seen)
    assert len(views) == 6 and len({view.sum().item() for view in views}) == 6  # 2 clips × 3 crops, all different
    loaded = load_network(checkpoint)
    assert dict(ranked) == pytest.approx(scores_as_tested(loaded.network, loaded.clip, video, loaded.classes), abs=1e-6)

    _, out = predict(capsys, "--checkpoint", checkpoint, "--json", video)
    assert {p["class"]: p["probability"] for p in json.loads(out)[0]["predictions"]} == pytest.approx(dict(ranked), abs=1e-6)
    _, out = predict(capsys, "--checkpoint", checkpoint, "--json", "--clips", 1, video)  # a given value wins
    one_clip = replace(loaded.clip, test_clips=1)
    expected = scores_as_tested(loaded.network, one_clip, video, loaded.classes)
    assert {p["class"]: p["probability"] for p in json.loads(out)[0]["predictions"]} == pytest.approx(expected, abs=1e-6)
    _, out = predict(capsys, "--checkpoint", checkpoint, "--json", "--clips", 1, "--crops", 1, video)
    expected = scores_as_tested(loaded.network, replace(one_clip, test_crops=1), video, loaded.classes)
    assert {p["class"]: p["probability"] for p in json.loads(out)[0]["predictions"]} == pytest.approx(expected, abs=1e-6)


def test_predictor_reads_videos_with_its_decoder_settings(tiny_checkpoint, video):
    loaded = load_network(tiny_checkpoint)
    default, torchcodec = (Predictor(loaded.network, loaded.clip, loaded.classes, device="cpu", **options) for options in
                           ({}, {"decoding": DecoderSettings(decoder="torchcodec")}))
    with default.views.open(video) as pyav_reader, torchcodec.views.open(video) as torchcodec_reader:
        assert pyav_reader._selective is not None and torchcodec_reader._selective is None  # PyAV's selective reader, or not
    assert dict(default.predict(video, top_k=4)) == pytest.approx(dict(torchcodec.predict(video, top_k=4)))  # same pixels


def test_segment_sampling_checkpoints_predict_on_their_parts(tiny_checkpoint, make_counter_video):
    # the counter video's frame i is grey level 10 i: 24 frames, 4 parts of 6, two views at 1/4 and 3/4 of each
    loaded = load_network(tiny_checkpoint)
    seen = []
    loaded.network.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    clip = ClipSpec(num_frames=4, crop_size=32, min_scale=32, max_scale=32, eval_resize=32, mean=(0.0,) * 3,
                    std=(1.0,) * 3, sampling="segment")
    predictor = Predictor(loaded.network, clip, loaded.classes, num_clips=2, device="cpu")
    video = make_counter_video(num_frames=24, fps=12)
    predictor.predict(video)
    frame_index = (torch.cat(seen).mean(dim=(1, 3, 4)) * 255 / 10).round().int().tolist()
    assert frame_index == [[1, 7, 13, 19], [4, 10, 16, 22]]
    seen.clear()
    predictor.timeline(video, window=1.0, stride=1.0)  # each 1 s window's own 4 parts of 3 frames
    assert (torch.cat(seen).mean(dim=(1, 3, 4)) * 255 / 10).round().int().tolist() == [[1, 4, 7, 10], [13, 16, 19, 22]]
    with pytest.raises(VidclsError, match="no window length comes with it: give timeline"):
        predictor.timeline(video)  # the clip's clip_duration is no training window here


def test_a_segment_checkpoints_timeline_needs_its_window_given(tiny_checkpoint, make_counter_video, tmp_path, capsys):
    checkpoint = torch.load(tiny_checkpoint, map_location="cpu", weights_only=False)
    checkpoint["hyper_parameters"]["clip"] = {**checkpoint["hyper_parameters"]["clip"], "sampling": "segment"}
    torch.save(checkpoint, tmp_path / "segments.ckpt")
    video = make_counter_video(num_frames=24, fps=12)
    with pytest.raises(SystemExit) as exit_:
        main(["predict", "--checkpoint", str(tmp_path / "segments.ckpt"), "--timeline", "--json", str(video)])
    captured = capsys.readouterr()
    assert exit_.value.code == 2 and captured.out == "" and captured.err.strip().endswith("give --window SECONDS")
    status, out = predict(capsys, "--checkpoint", tmp_path / "segments.ckpt", "--timeline", "--window", 1, "--json", video)
    assert status == 0 and len(json.loads(out)[0]["windows"]) == 3  # 2 s: 1 s windows every 0.5 s


def test_a_timeline_past_the_decode_timeout_is_an_error_row_and_the_run_goes_on(tiny_checkpoint, synth_root, tmp_path,
                                                                                 monkeypatch, capsys):
    stuck, fine = sorted((synth_root / "test" / "moving_left").glob("*.mp4"))[:2]
    output = tmp_path / "timelines.jsonl"
    with stuck_on(stuck, monkeypatch):
        status, _ = predict(capsys, "--checkpoint", tiny_checkpoint, "--timeline", "--stride", 0.5, "--decode-timeout", 0.5,
                            "--output", output, stuck, fine)
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert status == 1 and rows[0] == {"path": str(stuck), "error": "decoding took longer than 0.5 s"}
    assert rows[1]["path"] == str(fine) and len(rows[1]["windows"]) > 1


def test_a_multilabel_timeline_marks_each_windows_classes_above_the_threshold(multilabel_checkpoint, synth_root, capsys,
                                                                              monkeypatch):
    video = synth_root / "test" / "moving_left" / "moving_left_0000.mp4"
    predictor = Predictor.from_checkpoint(multilabel_checkpoint, device="cpu")
    expected = predictor.timeline(video, stride=0.5, top_k=5).windows  # every class of each window
    first = [p for _, p in expected[0].predictions]
    threshold = (first[1] + first[2]) / 2  # the first window has two classes above it
    status, out = predict(capsys, "--checkpoint", multilabel_checkpoint, "--json", "--timeline", "--stride", 0.5,
                          "--top-k", 1, "--threshold", threshold, video)
    (entry,) = json.loads(out)
    assert status == 0 and len(entry["windows"]) == len(expected) > 1 and len(entry["windows"][0]["labels"]) == 2
    for window, every in zip(entry["windows"], expected):
        assert [p["class"] for p in window["predictions"]] == [every.predictions[0][0]]
        assert window["labels"] == [{"class": name, "probability": p} for name, p in every.predictions if p >= threshold]
    monkeypatch.setenv("COLUMNS", "300")
    _, out = predict(capsys, "--checkpoint", multilabel_checkpoint, "--timeline", "--stride", 0.5, "--threshold", threshold,
                     video)
    header, *rows = table_rows(out)
    assert header == ["start (s)", "end (s)", "classes", "probability"]
    assert rows[:2] == [[f"{expected[0].start:.2f}", f"{expected[0].end:.2f}", expected[0].predictions[0][0],
                         f"{first[0]:.3f}"], ["", "", expected[0].predictions[1][0], f"{first[1]:.3f}"]]
