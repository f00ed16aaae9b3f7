"""Prediction: `vidcls predict` (JSON, table, errors per file, folders, timeline) and the Predictor API."""

import json
import shutil

import numpy as np
import pytest

from tests.conftest import FEW_CLASSES
from tests.test_cli import TINY
from vidcls.cli import main
from vidcls.data.info import VideoInfo
from vidcls.datatools.synthetic import SynthConfig, render_video, write_video
from vidcls.errors import VidclsError
from vidcls.data.sampling import window_starts
from vidcls.inference.predictor import ClipSettings, Predictor, Window, load_checkpoint, merge_windows


@pytest.fixture(scope="module")
def checkpoint(synth_root, tmp_path_factory):
    """A checkpoint as `vidcls fit` writes it: simple3d on 4 frames of 32², after two batches."""
    out = tmp_path_factory.mktemp("run")
    main(["fit", *TINY, "--data.root", str(synth_root), "--trainer.default_root_dir", str(out),
          "--trainer.max_epochs", "1", "--trainer.limit_val_batches", "0", "--trainer.logger", "false"])
    return next(out.rglob("*.ckpt"))


@pytest.fixture
def video(synth_root):
    return synth_root / "test" / "moving_up" / "moving_up_0000.mp4"


def predict(capsys, *args):
    """Run `vidcls predict ARGS`: (exit status, stdout)."""
    with pytest.raises(SystemExit) as exit_:
        main(["predict", *map(str, args)])
    return exit_.value.code, capsys.readouterr().out


def assert_ranked(predictions, top_k):
    probabilities = [p["probability"] for p in predictions]
    assert len(predictions) == top_k
    assert {p["class"] for p in predictions} <= set(FEW_CLASSES)
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0 <= sum(probabilities) <= 1 + 1e-6


def test_predict_json_lists_top_k_classes_of_the_checkpoint(checkpoint, video, capsys):
    status, out = predict(capsys, "--checkpoint", checkpoint, "--top-k", 3, "--json", video)
    (entry,) = json.loads(out)
    assert status == 0 and entry["path"] == str(video)
    assert_ranked(entry["predictions"], 3)


def test_predict_table(checkpoint, video, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # rich wraps to the terminal's width
    status, out = predict(capsys, "--checkpoint", checkpoint, video)
    assert status == 0
    assert str(video) in out and "probability" in out
    assert sum(name in out for name in FEW_CLASSES) == 4  # top-5 of 4 classes: all of them

    status, out = predict(capsys, "--checkpoint", checkpoint, "--timeline", video)
    assert status == 0 and "start (s)" in out and str(video) in out


def test_bad_files_are_error_entries_and_the_others_go_on(checkpoint, video, tmp_path, capsys):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"not a video" * 100)
    missing = tmp_path / "missing.mp4"
    status, out = predict(capsys, "--checkpoint", checkpoint, "--json", corrupt, video, missing)
    bad, good, absent = json.loads(out)
    assert status == 1
    assert bad["path"] == str(corrupt) and bad["error"] and "predictions" not in bad
    assert_ranked(good["predictions"], 4)
    assert absent == {"path": str(missing), "error": "no such file or folder"}


def test_folders_expand_to_their_videos_sorted(checkpoint, synth_root, tmp_path, capsys):
    folder = tmp_path / "videos"
    for name in ("b/second.mp4", "a/first.MP4", "c.mkv"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(synth_root / "val" / "moving_left" / "moving_left_0000.mp4", folder / name)
    (folder / "notes.txt").write_text("not a video")
    (tmp_path / "empty").mkdir()
    status, out = predict(capsys, "--checkpoint", checkpoint, "--json", "--top-k", 1, folder, tmp_path / "empty")
    entries = json.loads(out)
    assert [e["path"] for e in entries] == [str(folder / "a/first.MP4"), str(folder / "b/second.mp4"),
                                            str(folder / "c.mkv"), str(tmp_path / "empty")]
    assert all(len(e["predictions"]) == 1 for e in entries[:3])
    assert entries[3]["error"] == "folder has no video files" and status == 1


def test_timeline_windows_cover_the_video_and_segments_tile_it(checkpoint, tmp_path, capsys):
    # 9 s: three 3 s synthetic videos of different motions, end to end
    config = SynthConfig(seed=3)
    rng = np.random.default_rng(0)
    motions = ("moving_left", "moving_up", "moving_right")
    frames = np.concatenate([render_video(motion, rng, config) for motion in motions])
    long_video = tmp_path / "long.mp4"
    write_video(frames, long_video, config.fps)
    duration = len(frames) / config.fps

    status, out = predict(capsys, "--checkpoint", checkpoint, "--json", "--timeline", "--stride", 0.75, "--top-k", 2,
                          long_video)
    (entry,) = json.loads(out)
    windows, segments = entry["windows"], entry["segments"]
    assert status == 0
    assert windows[0]["start"] == 0 and windows[-1]["end"] == pytest.approx(duration)
    assert all(w["end"] - w["start"] == pytest.approx(2.0) for w in windows)  # the training clip duration
    assert all(b["start"] - a["start"] <= 0.75 + 1e-6 for a, b in zip(windows, windows[1:]))
    for window in windows:
        assert_ranked(window["predictions"], 2)
    assert segments[0]["start"] == 0 and segments[-1]["end"] == pytest.approx(duration)
    assert all(a["end"] == b["start"] and a["label"] != b["label"] for a, b in zip(segments, segments[1:]))
    assert all(0 < s["score"] <= 1 and s["label"] in FEW_CLASSES for s in segments)


def test_merge_windows_splits_at_midpoints_between_window_centres():
    windows = [Window(start, start + 2, [(label, p)]) for start, label, p in
               [(0, "a", 0.6), (1, "a", 0.8), (2, "b", 0.9), (3, "a", 0.5)]]
    segments = merge_windows(windows, duration=5.0)
    assert [(s.start, s.end, s.label) for s in segments] == [(0, 2.5, "a"), (2.5, 3.5, "b"), (3.5, 5.0, "a")]
    assert segments[0].score == pytest.approx(0.7)


def test_window_starts_reach_the_end():
    info = VideoInfo(begin=0.0, end=5.0, fps=10, num_frames=50, width=8, height=8)
    assert window_starts(info, window=2.0, stride=1.5) == [0.0, 1.5, 3.0]
    assert window_starts(info, window=2.0, stride=2.0) == [0.0, 2.0, 3.0]  # the tail gets its own window
    assert window_starts(info, window=8.0, stride=1.0) == [0.0]  # shorter than a window: one clamped clip


def test_python_api_uses_the_checkpoint_settings(checkpoint, video):
    predictor = Predictor.from_checkpoint(checkpoint, device="cpu")
    assert predictor.classes == sorted(FEW_CLASSES)
    assert predictor.settings == ClipSettings(2.0, 4, 32, 32, (0.45, 0.45, 0.45), (0.225, 0.225, 0.225))
    ranked = predictor.predict(video, top_k=10)
    assert sorted(name for name, _ in ranked) == sorted(FEW_CLASSES)
    assert sum(p for _, p in ranked) == pytest.approx(1, abs=1e-5)  # all classes: the softmax sums to 1


def test_settings_missing_from_a_checkpoint_fall_back_to_the_datamodule_defaults():
    assert ClipSettings.from_hparams({"num_frames": 16}) == ClipSettings(2.0, 16, 224, 256, (0.45,) * 3, (0.225,) * 3)


def test_unreadable_checkpoint_is_a_vidcls_error(tmp_path, video):
    with pytest.raises(VidclsError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.ckpt")
    with pytest.raises(VidclsError, match="not a checkpoint"):
        load_checkpoint(video)
