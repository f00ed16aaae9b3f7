"""Predicting a corpus: the path stream, predict_many's order and batches across videos, pooled features."""

import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from tests.helpers.decoding import stuck_on
from vidcls.clip import ClipSpec
from vidcls.data.sources import is_video
from vidcls.datatools.shards import Shard
from vidcls.inference.corpus import DIED_ON_IT, corpus, launcher_shard, read_path_list
from vidcls.inference.predictor import ClipViews, Predictor
from vidcls.models import build_model, get_preset, model_entry
from vidcls.models.checkpoint import load_network


@pytest.fixture
def predictor(tiny_checkpoint):
    """Two clips per video, batches of three clips: batches end inside videos."""
    return Predictor.from_checkpoint(tiny_checkpoint, num_clips=2, batch_size=3, device="cpu")


def test_folders_are_walked_in_sorted_order_and_lists_relative_to_their_folder(corpus_dir, tmp_path):
    (corpus_dir / "a" / "notes.txt").write_text("not a video")
    expected = [str(p) for p in sorted(corpus_dir.rglob("*")) if is_video(p)]
    assert list(corpus([corpus_dir])) == expected
    listed = tmp_path / "videos.txt"
    listed.write_text("# corpus\ncorpus/a/moving_down_0000.mp4\n\n/elsewhere/x.mp4\n")
    assert list(read_path_list(listed)) == [str(tmp_path / "corpus/a/moving_down_0000.mp4"), "/elsewhere/x.mp4"]
    halves = [list(corpus([corpus_dir], shard=Shard(i, 2))) for i in (0, 1)]
    assert sorted(halves[0] + halves[1]) == expected and not set(halves[0]) & set(halves[1])
    assert list(corpus([corpus_dir], skip=set(expected[1:]))) == expected[:1]


def test_a_launcher_shares_by_rank(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert launcher_shard() is None
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    assert launcher_shard() == Shard(3, 4)
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert launcher_shard() is None


def test_predict_many_gives_each_video_what_predict_does_in_input_order(predictor, corpus_dir, tmp_path):
    videos = [str(p) for p in sorted(corpus_dir.rglob("*.mp4"))]
    missing = str(tmp_path / "missing.mp4")
    paths = [videos[0], missing, *videos[1:]]
    results = list(predictor.predict_many(paths, workers=2))
    assert [r.path for r in results] == paths
    errors = {r.path: r.error for r in results if r.error}
    assert errors.keys() == {missing, str(corpus_dir / "b/broken.mp4")} and errors[missing] == "no such file or folder"
    assert "Invalid data" in errors[str(corpus_dir / "b/broken.mp4")]  # FFmpeg's reason, without the path
    for result in results:
        if result.error is None:
            alone = dict(predictor.predict(result.path, top_k=4))
            assert alone == pytest.approx(dict(predictor.ranked(result.probabilities, 4)), abs=1e-6)


def test_workers_change_nothing_but_speed(predictor, corpus_dir):
    serial = list(predictor.predict_many([corpus_dir / "a", corpus_dir / "b"], workers=0, features=True))
    parallel = list(predictor.predict_many([corpus_dir / "a", corpus_dir / "b"], workers=2, features=True))
    assert [r.path for r in serial] == [r.path for r in parallel]
    for one, other in zip(serial, parallel):
        assert one.error == other.error
        if one.error is None:
            assert torch.equal(one.probabilities, other.probabilities) and torch.equal(one.features, other.features)


def test_features_are_the_classifiers_input_averaged_over_the_views(predictor, corpus_dir):
    network = predictor.network
    for result in predictor.predict_many(sorted((corpus_dir / "a").iterdir()), workers=0, features=True):
        views = predictor.views.inputs(predictor.views(result.path)).flatten(0, 1)  # the clips' crops, made as predict makes them
        with torch.no_grad():
            pooled = network.head[:3](network.features(views))  # simple3d without its last layer: pool, flatten, dropout
        torch.testing.assert_close(result.features, pooled.mean(0), atol=1e-5, rtol=1e-5)


def test_a_hub_familys_features_are_its_pooled_output(make_counter_video, tiny_hub_options):
    options = tiny_hub_options("videomae")
    network = build_model("videomae", 3, classes=["a", "b", "c"], **options).eval()
    clip: ClipSpec = get_preset("videomae", None, options)
    predictor = Predictor(network, clip, ["a", "b", "c"], num_clips=2, device="cpu", feature_layer=model_entry("videomae").head)
    video = make_counter_video(size=(64, 48))
    (result,) = predictor.predict_many([video], workers=0, features=True)
    model = network.model
    with torch.no_grad():
        hidden = model.videomae(predictor.views.inputs(predictor.views(video)).flatten(0, 1).transpose(1, 2)).last_hidden_state
        pooled = model.fc_norm(hidden.mean(1)) if model.fc_norm is not None else hidden[:, 0]
    assert result.features.shape == (options["hidden_size"],)
    torch.testing.assert_close(result.features, pooled.mean(0), atol=1e-5, rtol=1e-5)


def test_bf16_autocast_gives_nearly_the_same_probabilities(tiny_checkpoint, corpus_dir):
    loaded = load_network(tiny_checkpoint)
    video = next((corpus_dir / "a").iterdir())
    full = Predictor(loaded.network, loaded.clip, loaded.classes, device="cpu").predict(video, top_k=4)
    half = Predictor(loaded.network, loaded.clip, loaded.classes, device="cpu", precision="bf16").predict(video, top_k=4)
    assert dict(half) == pytest.approx(dict(full), abs=0.02)


def test_files_that_are_not_there_are_results_with_their_reason(predictor, tmp_path: Path):
    (tmp_path / "empty").mkdir()
    results = list(predictor.predict_many([tmp_path / "empty", tmp_path / "gone.mp4"], workers=0))
    assert [(r.path, r.error) for r in results] == [(str(tmp_path / "empty"), "folder has no video files"),
                                                    (str(tmp_path / "gone.mp4"), "no such file or folder")]


def test_paths_are_streamed_not_held(predictor, tmp_path):
    """A million paths: the first results come while only a few have been taken from the list."""
    taken = 0

    def paths():
        nonlocal taken
        for i in range(1_000_000):
            taken += 1
            yield tmp_path / f"{i}.mp4"  # none there: a cheap error row each

    results = predictor.predict_many(paths(), workers=2)
    first = [next(results) for _ in range(3)]
    assert [r.path for r in first] == [str(tmp_path / f"{i}.mp4") for i in range(3)]
    assert taken <= 3 + 2 * 2 + 1  # what was given back, and the workers' prefetch (2 each)
    results.close()


def test_workers_decode_a_network_batch_ahead(tiny_checkpoint, tmp_path):
    """Batches of 8 one-clip videos, 2 workers: 8 videos and one more per worker are asked for at once, no more.

    Fewer left the workers idle while the network ran a batch (PyTorch's default: 2 each).
    """
    taken = 0

    def paths():
        nonlocal taken
        for i in range(1_000):
            taken += 1
            yield tmp_path / f"{i}.mp4"

    predictor = Predictor.from_checkpoint(tiny_checkpoint, num_clips=1, batch_size=8, device="cpu")
    results = predictor.predict_many(paths(), workers=2)
    next(results)
    assert 8 + 2 <= taken <= 8 + 2 + 1
    results.close()


def test_a_video_past_the_decode_timeout_is_an_error_and_the_run_goes_on(tiny_checkpoint, corpus_dir, monkeypatch):
    from vidcls.data.decoding import DecoderSettings

    videos = sorted((corpus_dir / "a").iterdir())
    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu", decoding=DecoderSettings(decode_timeout=0.5))
    with stuck_on(videos[1], monkeypatch):
        results = list(predictor.predict_many(videos, workers=0))
    assert [r.error for r in results] == [None, "decoding took longer than 0.5 s", None, None]


def test_batches_across_videos_keep_each_videos_task_and_view_pooling(tiny_checkpoint, corpus_dir):
    """Sigmoids pooled by max over 3 clips x 2 crops, the clips split over batches of 2: as each video's views alone."""
    loaded = load_network(tiny_checkpoint)
    clip = replace(loaded.clip, view_pooling="max")
    predictor = Predictor(loaded.network, clip, loaded.classes, num_clips=3, num_crops=2, batch_size=2, device="cpu",
                          task="multilabel")
    videos = sorted((corpus_dir / "a").iterdir())[:3]
    for result in predictor.predict_many(videos, workers=0):
        views = predictor.views.inputs(predictor.views(result.path)).flatten(0, 1)  # all 6 views at once
        with torch.no_grad():
            expected = loaded.network(views).sigmoid().amax(0)
        torch.testing.assert_close(result.probabilities, expected, atol=1e-5, rtol=1e-5)


@pytest.fixture
def quick_death_checks(monkeypatch):
    """PyTorch's loader looks for dead workers every 5 s; every half second here, so that a test takes seconds."""
    from torch.utils.data.dataloader import _MultiProcessingDataLoaderIter

    monkeypatch.setattr(_MultiProcessingDataLoaderIter._try_get_data, "__defaults__", (0.5,))


@pytest.mark.parametrize("deadly_at, slow_stream", [((2,), False), ((0, 3), True)])
def test_videos_that_kill_their_decoding_process_are_error_rows_and_the_run_goes_on(
        predictor, corpus_dir, monkeypatch, quick_death_checks, deadly_at, slow_stream):
    """A worker SIGKILLed on a video (as a decoder crash or the OOM killer would): that video's row is an error.

    The second case kills on the first video, while the loader is still taking paths from a slow
    stream (a folder walk on a network disk), and once more later, on a video that may be decoded
    again alone after the first death.
    """
    videos = [str(path) for path in sorted(corpus_dir.rglob("*.mp4")) if path.name != "broken.mp4"]
    deadly = {videos[i] for i in deadly_at}
    test_process, read = os.getpid(), ClipViews._views

    def views_or_death(self, path):
        if str(path) in deadly and os.getpid() != test_process:  # a DataLoader worker: the kernel kills it
            os.kill(os.getpid(), signal.SIGKILL)
        return read(self, path)

    def stream():
        for path in videos:
            if slow_stream:
                time.sleep(0.3)
            yield path

    list(DataLoader(range(2), num_workers=1))  # the SIGCHLD handler a plain loader leaves (PyTorch's, unless removed)
    left_by_a_loader = signal.getsignal(signal.SIGCHLD)
    monkeypatch.setattr(ClipViews, "_views", views_or_death)
    results = list(predictor.predict_many(stream(), workers=2))
    assert signal.getsignal(signal.SIGCHLD) is left_by_a_loader  # given back once the run is over
    assert [r.path for r in results] == videos  # every video once, in order, the rest predicted by new workers
    assert [r.error for r in results] == [DIED_ON_IT if path in deadly else None for path in videos]
    alone = {r.path: r.probabilities for r in predictor.predict_many([p for p in videos if p not in deadly], workers=0)}
    for result in results:
        if result.path not in deadly:
            torch.testing.assert_close(result.probabilities, alone[result.path])
