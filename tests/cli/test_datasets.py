"""Each published set, laid out as published, trains, tests and predicts with one command each."""

import csv
import json
import shutil
from pathlib import Path

import pytest
import torch

from vidcls.cli import main
from vidcls.data.formats import open_format

# Each tiny tree's split-1 test videos and its classes in published order, as the fixture lays them out
# (conftest.py): UCF101 in classInd's order, HMDB51's sorted names, SSv2's labels.json indices, Diving-48's vocabulary.
EXPECTED = {
    "ucf101": (3, ["ApplyEyeMakeup", "BandMarching", "HandstandPushups"]),
    "hmdb51": (3, ["brush_hair", "clap", "fall_floor"]),
    "ssv2": (3, ["Approaching something with your camera", "Holding something next to something",
                 "Pushing something from left to right"]),
    "diving48": (3, ["Back 15som 05Twis FREE", "Back 15som 15Twis FREE", "Forward 35som NoTwis PIKE"]),
}


@pytest.mark.parametrize("name", ["ucf101", "hmdb51", "ssv2", "diving48"])
def test_published_set_trains_tests_and_predicts(published_dataset, tiny_args, tmp_path, capsys, name):
    videos, annotations = published_dataset(name)
    data = ["--data.dataset", name, "--data.root", str(videos), "--data.annotations", str(annotations)]
    if name == "ssv2":
        data += ["--data.sampling", "segment", "--data.hflip_prob", "0"]
    out = tmp_path / "run"
    main(["fit", *tiny_args, *data, "--trainer.default_root_dir", str(out), "--trainer.max_epochs", "1",
          "--trainer.logger", "false", "--trainer.limit_train_batches", "1", "--trainer.limit_val_batches", "0"])
    (checkpoint,) = out.rglob("*.ckpt")
    main(["test", *tiny_args, *data, "--ckpt_path", str(checkpoint), "--trainer.default_root_dir", str(out),
          "--trainer.limit_test_batches", "1.0"])
    report = next(out.rglob("report.json"))
    published = open_format(name, videos, annotations)
    videos_tested, classes = EXPECTED[name]
    assert json.loads(report.read_text())["videos"] == videos_tested
    with (report.parent / "per_class.csv").open(newline="") as handle:
        assert [row["class"] for row in csv.DictReader(handle)] == classes  # in published order
    video = published.test_videos()[0] if name == "ssv2" else published.videos("test")[0].path
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["predict", "--checkpoint", str(checkpoint), str(video), "--json", "--top-k", "3"])
    assert exit_.value.code == 0
    (entry,) = json.loads(capsys.readouterr().out)
    probabilities = [p["probability"] for p in entry["predictions"]]
    assert sorted(p["class"] for p in entry["predictions"]) == sorted(classes)
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) == pytest.approx(1, abs=1e-5)


@pytest.mark.parametrize("name", ["ucf101", "hmdb51", "ssv2", "diving48"])
def test_verify_and_prepare_take_the_published_videos(published_dataset, tmp_path, capsys, name):
    videos, annotations = published_dataset(name)
    published = open_format(name, videos, annotations)
    every = {v.path for split in ("train", "test") for v in published.videos(split)}
    manifest = tmp_path / "manifest.csv"
    with pytest.raises(SystemExit) as exit_:
        main(["data", "verify", str(videos), "--manifest", str(manifest), "--jobs", "1"])
    assert exit_.value.code == 0
    with manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {Path(row["path"]) if Path(row["path"]).is_absolute() else videos / row["path"] for row in rows} >= every
    assert all(row["ok"] == "true" for row in rows)
    prepared = tmp_path / "prepared"
    with pytest.raises(SystemExit) as exit_:
        main(["data", "prepare", str(videos), str(prepared), "--jobs", "1", "--short-side", "32"])
    assert exit_.value.code == 0
    # the same annotations read the prepared copy: the videos as .mp4 at the same paths
    again = open_format(name, prepared, annotations)
    for split in ("train", "test"):
        assert [(s.path.suffix, s.label, s.span) for s in again.samples(split)] == \
            [(".mp4", s.label, s.span) for s in published.samples(split)]


def test_the_ssv2_videomae_recipe_trains_on_segments_without_flips(published_dataset, hub_checkpoint, tmp_path):
    pytest.importorskip("transformers")
    from vidcls.training.config import run_lightning

    videos, labels = published_dataset("ssv2")
    config = Path(__file__).resolve().parents[2] / "configs" / "ssv2_videomae.yaml"
    cli = run_lightning(["fit", "--config", str(config), "--data.root", str(videos), "--data.annotations", str(labels),
                         "--model.pretrained", str(hub_checkpoint("videomae")), "--data.num_frames", "4",
                         "--data.num_workers", "0", "--trainer.accelerator", "cpu", "--trainer.max_epochs", "1",
                         "--trainer.limit_train_batches", "1", "--trainer.limit_val_batches", "1",
                         "--trainer.enable_progress_bar", "false", "--trainer.default_root_dir", str(tmp_path)])
    clip = cli.datamodule.clip
    assert (clip.sampling, clip.hflip_prob, clip.test_clips, clip.test_crops) == ("segment", 0.0, 2, 3)
    assert (clip.randaug_ops, clip.randaug_magnitude, clip.erase_prob) == (4, 7, 0.25)
    assert cli.datamodule.datasets["train"].segments and cli.model.classes == cli.datamodule.format.classes()
    assert cli.trainer.global_step == 1


def test_a_published_classifier_tests_on_its_dataset_without_training(published_dataset, hub_checkpoint,
                                                                      tiny_hub_options, tmp_path):
    """Its head names the dataset's classes in another order: kept, and reordered to the dataset's."""
    transformers = pytest.importorskip("transformers")
    from safetensors.torch import load_file

    from vidcls.training.config import run_lightning

    videos, labels = published_dataset("ssv2")
    classes = open_format("ssv2", videos, labels).classes()
    head_order = [classes[2], classes[0], classes[1]]
    folder = tmp_path / "ssv2_classifier"
    config = transformers.VideoMAEConfig(**tiny_hub_options("videomae"), id2label=dict(enumerate(head_order)),
                                         label2id={name: i for i, name in enumerate(head_order)})
    transformers.VideoMAEForVideoClassification(config).save_pretrained(folder)
    shutil.copy(hub_checkpoint("videomae") / "preprocessor_config.json", folder)
    cli = run_lightning(["test", "--model.model", "videomae", "--model.pretrained", str(folder), "--data.dataset", "ssv2",
                         "--data.root", str(videos), "--data.annotations", str(labels), "--data.num_workers", "0",
                         "--data.batch_size", "4", "--trainer.accelerator", "cpu", "--trainer.enable_progress_bar",
                         "false", "--trainer.default_root_dir", str(tmp_path / "run")])
    saved = load_file(folder / "model.safetensors")["classifier.weight"]
    rows = [head_order.index(name) for name in classes]
    assert cli.model.classes == classes
    assert torch.equal(cli.model.network.model.classifier.weight, saved[rows])
    report = json.loads(next((tmp_path / "run").rglob("report.json")).read_text())
    assert report["videos"] == 3
