"""Multi-label videos through fit, test and predict: tag lists and a Charades tree train with binary cross-entropy,
test to a report whose mAP is scikit-learn's over the videos' scores, and predict sigmoid probabilities."""

import csv
import json
from dataclasses import replace

import pytest
import torch

from vidcls.cli import main
from vidcls.inference.predictor import Predictor
from vidcls.models.checkpoint import load_network
from vidcls.training.config import run_lightning

sklearn_metrics = pytest.importorskip("sklearn.metrics")


@pytest.fixture(scope="module")
def tag_run(tag_lists, tiny_args, tmp_path_factory):
    """`vidcls fit` on the tag lists (task left out: the lists' label sets set it): (checkpoint, its last metrics)."""
    out = tmp_path_factory.mktemp("tags")
    cli = run_lightning(["fit", *tiny_args, "--data.train_list", str(tag_lists["train"]), "--data.val_list", str(tag_lists["val"]),
          "--trainer.default_root_dir", str(out), "--trainer.max_epochs", "1", "--model.optimizer", "adamw",
          "--model.lr", "3e-3", "--model.mixup_alpha", "0.8"])
    return next(out.rglob("*.ckpt")), dict(cli.trainer.callback_metrics)


def command(*args: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    assert exit_.value.code == 0


def sklearn_map(scores: dict[str, dict[str, float]], truth: dict[str, tuple[str, ...]], classes: list[str]) -> float:
    """The mean over classes with a positive of scikit-learn's average precision, from each video's class scores."""
    videos = sorted(truth)
    aps = [sklearn_metrics.average_precision_score([name in truth[v] for v in videos], [scores[v][name] for v in videos])
           for name in classes if any(name in truth[v] for v in videos)]
    return sum(aps) / len(aps)


def test_a_tiny_charades_trains_tests_to_scikit_learns_map_and_predicts_sigmoids(charades_root, tiny_args, tmp_path,
                                                                                capsys):
    data = ["--data.dataset", "charades", "--data.root", str(charades_root / "Charades_v1_480"),
            "--data.annotations", str(charades_root / "Charades")]
    cli = run_lightning(["fit", *tiny_args, *data, "--trainer.default_root_dir", str(tmp_path / "fit"),
                         "--trainer.max_epochs", "1", "--model.optimizer", "adamw", "--model.lr", "3e-3"])
    assert cli.model.task == "multilabel" and {"train/mAP", "val/mAP"} <= set(cli.trainer.callback_metrics)
    checkpoint = next((tmp_path / "fit").rglob("*.ckpt"))
    loaded = load_network(checkpoint)
    assert loaded.task == "multilabel" and loaded.classes == cli.datamodule.format.classes()

    main(["test", *tiny_args, *data, "--trainer.limit_test_batches", "1.0", "--trainer.default_root_dir",
          str(tmp_path / "test"), "--ckpt_path", str(checkpoint), "--data.view_pooling", "max"])
    report = json.loads(next((tmp_path / "test").rglob("report.json")).read_text())
    assert report["task"] == "multilabel" and report["videos"] == 16
    test_videos = cli.datamodule.format.videos("test")
    predictor = Predictor(loaded.network, replace(loaded.clip, view_pooling="max"), loaded.classes, task=loaded.task,
                          device="cpu")
    scores = {str(video.path): dict(predictor.predict(video.path, top_k=4)) for video in test_videos}
    truth = {str(video.path): video.label for video in test_videos}  # the classes file's names, as the report's
    assert report["mAP"] == pytest.approx(sklearn_map(scores, truth, loaded.classes), abs=1e-5)

    capsys.readouterr()
    command("predict", "--checkpoint", str(checkpoint), "--json", str(test_videos[0].path))
    (entry,) = json.loads(capsys.readouterr().out)
    every = dict(Predictor.from_checkpoint(checkpoint, device="cpu").predict(test_videos[0].path, top_k=4))
    assert {p["class"]: p["probability"] for p in entry["predictions"]} == pytest.approx(every)  # 4 classes, top-5
    assert [p["class"] for p in entry["labels"]] == [name for name, p in every.items() if p >= 0.5]
    logits = torch.tensor([every[name] for name in loaded.classes]).logit()  # sigmoids: a multiclass reading softmaxes them
    as_multiclass = Predictor(loaded.network, loaded.clip, loaded.classes, device="cpu").predict(test_videos[0].path, 4)
    assert dict(as_multiclass) == pytest.approx(dict(zip(loaded.classes, logits.softmax(0).tolist())), abs=1e-5)


def test_a_tag_list_trains_multilabel_and_its_checkpoint_says_so(tag_run):
    checkpoint, metrics = tag_run
    loaded = load_network(checkpoint)
    assert loaded.task == "multilabel" and loaded.classes == ["down", "horizontal", "left", "up", "vertical"]
    assert {"train/mAP", "val/mAP"} <= set(metrics) and not {"train/top1", "val/top1"} & set(metrics)
    assert 0 < metrics["val/mAP"] <= 1 and torch.isfinite(metrics["train/loss"])


def test_test_reports_the_map_of_the_videos_scores_and_predict_gives_sigmoids(tag_run, tag_lists, tiny_args, tmp_path,
                                                                           capsys, motion_tags, monkeypatch):
    checkpoint, _ = tag_run
    main(["test", *tiny_args, "--trainer.limit_test_batches", "1.0", "--data.test_list", str(tag_lists["test"]),
          "--trainer.default_root_dir", str(tmp_path), "--ckpt_path", str(checkpoint), "--data.test_clips", "2",
          "--data.view_pooling", "max"])
    (report_file,) = tmp_path.rglob("report.json")
    report = json.loads(report_file.read_text())
    assert report["task"] == "multilabel" and report["videos"] == 16 and report["clip"]["view_pooling"] == "max"
    with open(report_file.parent / "per_class.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["class", "positives", "predicted", "ap"]
    assert {row["class"]: int(row["positives"]) for row in rows} == {"down": 4, "horizontal": 4, "left": 4, "up": 4,
                                                                      "vertical": 8}

    loaded = load_network(checkpoint)
    clip = replace(loaded.clip, test_clips=2, view_pooling="max")  # the views the test scored
    predictor = Predictor(loaded.network, clip, loaded.classes, task=loaded.task, device="cpu")
    videos = [row["path"] for row in csv.DictReader(tag_lists["test"].open())]
    scores = {video: dict(predictor.predict(video, top_k=5)) for video in videos}
    truth = {video: motion_tags[video.split("/")[-2]] for video in videos}
    assert report["mAP"] == pytest.approx(sklearn_map(scores, truth, loaded.classes), abs=1e-5)

    capsys.readouterr()  # the test's printed table
    command("predict", "--checkpoint", str(checkpoint), "--json", "--top-k", "2", "--clips", "1", "--threshold", "0.3",
            videos[0])
    (entry,) = json.loads(capsys.readouterr().out)
    probabilities = torch.tensor([p["probability"] for p in entry["predictions"]])
    assert len(entry["predictions"]) == 2 and probabilities.sum() != pytest.approx(1.0)
    single = Predictor.from_checkpoint(checkpoint, device="cpu", num_clips=1)
    every = dict(single.predict(videos[0], top_k=5))
    assert entry["labels"] == [{"class": c, "probability": p} for c, p in sorted(every.items(), key=lambda i: -i[1])
                               if p >= 0.3]
    # sigmoids: their logits' softmax is what the same network gives as a multiclass one
    logits = torch.tensor([every[name] for name in loaded.classes]).logit()
    as_multiclass = Predictor(loaded.network, loaded.clip, loaded.classes, num_clips=1, device="cpu").predict(videos[0], 5)
    assert dict(as_multiclass) == pytest.approx(dict(zip(loaded.classes, logits.softmax(0).tolist())), abs=1e-5)

    monkeypatch.setenv("COLUMNS", "300")  # the table shows the classes above the threshold
    command("predict", "--checkpoint", str(checkpoint), "--clips", "1", "--threshold", "0.3", videos[0])
    shown = [[cell.strip() for cell in line.strip()[1:-1].split("│")] for line in capsys.readouterr().out.splitlines()
             if line.startswith("│")]  # a cell of several lines: one table line each
    expected = entry["labels"] or [{"class": "(none above the threshold)", "probability": None}]
    assert [cells[1:] for cells in shown] == [
        [p["class"], "" if p["probability"] is None else f"{p['probability']:.3f}"] for p in expected]


def test_a_multiclass_task_on_label_sets_is_one_line(tag_lists, tiny_args, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fit", *tiny_args, "--data.train_list", str(tag_lists["train"]), "--model.task", "multiclass",
              "--trainer.default_root_dir", str(tmp_path)])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "vidcls: error: the data gives videos several labels (multi-label), but the model's task is multiclass: "
        "give --model.task multilabel, or leave it out (a multiclass checkpoint cannot train on them)")
