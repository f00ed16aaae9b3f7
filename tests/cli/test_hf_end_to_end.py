"""The transformer families through every command: fit from a save_pretrained folder, test, predict, export to ONNX
and to the Hub's format, and that folder run by `transformers.pipeline` on a video file; the VideoMAE recipe."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vidcls.cli import main
from vidcls.datatools.synthetic import write_video
from vidcls.inference.predictor import Predictor
from vidcls.models.checkpoint import load_network
from vidcls.training.config import run_lightning

transformers = pytest.importorskip("transformers")
pytest.importorskip("onnxruntime")

QUICK = ["--trainer.accelerator", "cpu", "--trainer.enable_progress_bar", "false", "--trainer.max_epochs", "1",
         "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1", "--trainer.limit_test_batches", "1",
         "--data.batch_size", "4", "--data.num_workers", "0"]
CONFIG = Path(__file__).resolve().parents[2] / "configs" / "finetune_videomae.yaml"


@pytest.fixture(scope="module")
def still_video(tmp_path_factory) -> Path:
    """One textured frame held for 2 s: every clip of it is the same frames, however a reader samples them."""
    blocks = np.random.default_rng(0).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    frame = blocks.repeat(8, axis=0).repeat(8, axis=1)  # 48×64, 8-pixel squares: the resize has work to do
    path = tmp_path_factory.mktemp("still") / "still.mp4"
    write_video(np.ascontiguousarray(np.broadcast_to(frame, (24, *frame.shape))), path, fps=12)
    return path


def command(*args: str) -> None:
    """A text command (predict, export), which exits with its status: 0 expected."""
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    assert exit_.value.code == 0


def test_fit_test_predict_and_export_a_family_from_a_pretrained_folder(family, hub_checkpoint, synth_root, still_video,
                                                                       tmp_path, capsys, few_classes):
    run = ["--data.root", str(synth_root), "--trainer.default_root_dir", str(tmp_path)]
    main(["fit", *QUICK, *run, "--model.model", family, "--model.pretrained", str(hub_checkpoint(family)),
          "--model.optimizer", "adamw", "--model.lr", "1e-3", "--model.layer_decay", "0.75",
          *(["--model.freeze_backbone", "true"] if family == "videoprism" else [])])  # its published encoders' probe
    checkpoint = next(tmp_path.rglob("*.ckpt"))
    loaded = load_network(checkpoint)  # rebuilt from the recorded config: the folder is not read again
    clip = loaded.clip
    assert loaded.hparams["pretrained"] is None and loaded.classes == sorted(few_classes)
    resize = 32 if family == "videoprism" else 36  # VideoPrism's processor: the whole frame to a 32 square, no crop
    assert (clip.num_frames, clip.crop_size, clip.eval_resize) == (4, 32, resize)  # the folder's config and processor

    main(["test", *QUICK, *run, "--ckpt_path", str(checkpoint), "--data.test_clips", "2", "--data.test_crops", "3"])
    assert "test/top1" in capsys.readouterr().out

    command("predict", "--checkpoint", str(checkpoint), "--json", "--top-k", "4", str(still_video))
    (entry,) = json.loads(capsys.readouterr().out)
    predicted = {p["class"]: p["probability"] for p in entry["predictions"]}
    assert set(predicted) == set(few_classes)

    # each export's parity against PyTorch is checked by the command, which fails above 1e-3
    command("export", "--checkpoint", str(checkpoint), "--format", "onnx", "--output", str(tmp_path / "m.onnx"))

    folder = tmp_path / "hub"
    command("export", "--checkpoint", str(checkpoint), "--format", "huggingface", "--output", str(folder))
    assert {"config.json", "model.safetensors", "video_preprocessor_config.json"} <= {p.name for p in folder.iterdir()}
    assert json.loads((folder / "config.json").read_text())["id2label"] == {str(i): c for i, c in enumerate(sorted(few_classes))}
    pipe = transformers.pipeline("video-classification", model=str(folder))
    # a still video: the pipeline's own frame sampling and processor must give vidcls's probabilities
    if family == "videoprism":  # the pipeline ranks logits[0], for VideoPrism a 1×classes row it cannot rank: its steps
        probabilities = pipe.model(**pipe.preprocess(str(still_video))).logits[0, 0].softmax(-1).tolist()
        scores = dict(zip(pipe.model.config.id2label.values(), probabilities))
    else:
        scores = {s["label"]: s["score"] for s in pipe(str(still_video), top_k=4)}
    assert scores == pytest.approx(predicted, abs=2e-3)
    assert dict(Predictor.from_checkpoint(checkpoint, device="cpu").predict(still_video, top_k=4)) == pytest.approx(predicted)


def test_a_multilabel_hub_export_makes_transformers_pipeline_apply_a_sigmoid(hub_checkpoint, tag_lists, still_video,
                                                                             tmp_path):
    main(["fit", *QUICK, "--data.train_list", str(tag_lists["train"]), "--trainer.default_root_dir", str(tmp_path),
          "--model.model", "videomae", "--model.pretrained", str(hub_checkpoint("videomae")), "--model.optimizer", "adamw",
          "--model.lr", "1e-3", "--trainer.limit_val_batches", "0"])
    checkpoint = next(tmp_path.rglob("*.ckpt"))
    folder = tmp_path / "hub"
    command("export", "--checkpoint", str(checkpoint), "--format", "huggingface", "--output", str(folder))
    assert json.loads((folder / "config.json").read_text())["problem_type"] == "multi_label_classification"
    scores = transformers.pipeline("video-classification", model=str(folder))(str(still_video), top_k=5)
    predicted = dict(Predictor.from_checkpoint(checkpoint, device="cpu").predict(still_video, top_k=5))
    assert {s["label"]: s["score"] for s in scores} == pytest.approx(predicted, abs=2e-3)  # sigmoids, both
    assert sum(predicted.values()) != pytest.approx(1.0, abs=0.05)


def test_the_videomae_recipe_runs_with_layer_decay_mixing_and_repeated_clips(hub_checkpoint, synth_root, tmp_path):
    # the recipe as it is, with its EMA switch on (the published script leaves it off), the model and the data ours
    cli = run_lightning(["fit", "--config", str(CONFIG), *QUICK, "--data.root", str(synth_root),
                         "--trainer.default_root_dir", str(tmp_path), "--model.pretrained", str(hub_checkpoint("videomae")),
                         "--trainer.callbacks+=EMAWeightAveraging", "--trainer.callbacks.decay", "0.9999"])
    hparams = cli.model.hparams
    assert (hparams.layer_decay, hparams.mixup_alpha, hparams.cutmix_alpha, hparams.label_smoothing) == (0.75, 0.8, 1.0, 0.1)
    train = cli.datamodule.datasets["train"].transform  # RandAugment m7 n4 and random erasing 0.25 were in the loop
    assert (train.rand_augment.num_ops, train.rand_augment.magnitude, train.erasing.p) == (4, 7, 0.25)
    best = next(tmp_path.rglob("best.ckpt"))
    assert torch.load(best, weights_only=True)["averaging_state"]["n_averaged"].item() == 2  # EMA over both steps
    stored = load_network(best).clip
    assert (stored.randaug_ops, stored.randaug_magnitude, stored.erase_prob) == (4, 7, 0.25)
    rates = sorted({group["initial_lr"] for group in cli.trainer.optimizers[0].param_groups})
    layers = 2
    assert rates == pytest.approx([6.25e-5 * 0.75 ** k for k in range(layers + 1, -1, -1)])
    assert cli.datamodule.clip.test_clips == 5 and cli.datamodule.clip.mean == pytest.approx((0.485, 0.456, 0.406))
    assert cli.trainer.callback_metrics["train/top1"] >= 0  # scored against the mixed clips' largest share
