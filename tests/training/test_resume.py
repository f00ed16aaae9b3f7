"""Resuming the right run, at the right place: `--ckpt_path last` matches the model and classes, and a
run resumed mid-epoch draws the rest of that epoch exactly as the interrupted run would have."""

import json

import lightning as L
import pytest
from lightning.pytorch.callbacks import ModelCheckpoint

from vidcls.cli import main
from vidcls.data.datamodule import VideoDataModule
from vidcls.models import register_model
from vidcls.models.simple3d import Simple3DCNN
from vidcls.training.classifier import VideoClassifier
from vidcls.training.run import link_run

CLIP = dict(num_frames=4, crop_size=32, min_scale=32, max_scale=40, eval_resize=32)


class Interrupted(Exception):
    pass


class RecordBatches(L.Callback):
    """The video indices of every training batch, in order; raises :class:`Interrupted` at step ``stop_at``."""

    def __init__(self, stop_at: int | None = None):
        self.batches: list[list[int]] = []
        self.stop_at = stop_at

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.stop_at:
            raise Interrupted  # as a killed process: what is on disk is all that is left
        self.batches.append(batch["index"].tolist())


def train(root, workers, *, stop_at=None, checkpoint_dir=None, ckpt_path=None) -> list[list[int]]:
    L.seed_everything(0)
    record = RecordBatches(stop_at)
    callbacks = [record]
    if checkpoint_dir:
        callbacks.append(ModelCheckpoint(dirpath=checkpoint_dir, every_n_train_steps=3, save_top_k=-1, filename="{step}"))
    trainer = L.Trainer(accelerator="cpu", max_epochs=2, limit_val_batches=0, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=bool(checkpoint_dir), callbacks=callbacks)
    datamodule = VideoDataModule(root=str(root), batch_size=4, num_workers=workers, **CLIP)
    model = VideoClassifier("simple3d")
    link_run(model, datamodule)
    try:
        trainer.fit(model, datamodule, ckpt_path=ckpt_path)
    except Interrupted:
        pass
    return record.batches


@pytest.mark.parametrize("workers", [0, 2])
def test_a_run_resumed_mid_epoch_sees_the_clips_of_an_uninterrupted_run(synth_root, tmp_path, workers):
    uninterrupted = train(synth_root, workers)
    steps_per_epoch = len(uninterrupted) // 2
    stop = steps_per_epoch + 4  # inside the second epoch, after the checkpoint of step stop - 1
    before = train(synth_root, workers, stop_at=stop, checkpoint_dir=tmp_path)
    saved = stop - stop % 3
    after = train(synth_root, workers, ckpt_path=tmp_path / f"step={saved}.ckpt")
    assert before == uninterrupted[:stop]
    assert before[:saved] + after == uninterrupted  # no clip seen twice, none skipped, same order


@pytest.fixture
def other_model():
    """A second architecture for the same data (registered once per session)."""
    try:
        register_model("other3d", "simple3d with other widths: a second experiment")(
            lambda num_classes, **options: Simple3DCNN(num_classes, widths=(8, 8, 8, 8)))
    except ValueError:
        pass  # registered by an earlier test
    return "other3d"


def test_ckpt_path_last_resumes_the_newest_run_of_this_model_not_the_newest_run(synth_root, tmp_path, other_model, monkeypatch):
    common = ["--trainer.accelerator", "cpu", "--trainer.enable_progress_bar", "false", "--trainer.max_epochs", "1",
              "--trainer.limit_train_batches", "1", "--trainer.limit_val_batches", "1", "--data.batch_size", "4",
              "--data.num_workers", "0", *[f"--data.{key}={value}" for key, value in CLIP.items()],
              "--data.root", str(synth_root), "--trainer.default_root_dir", str(tmp_path)]
    main(["fit", *common, "--model.model", "simple3d"])
    main(["fit", *common, "--model.model", other_model])  # newer, under the same root
    (simple_checkpoint,) = (tmp_path / "lightning_logs" / "version_0" / "checkpoints").glob("*.ckpt")

    resumed = {}
    monkeypatch.setattr(L.Trainer, "fit", lambda self, model, datamodule=None, ckpt_path=None, **kw: resumed.update(path=ckpt_path))
    main(["fit", *common, "--model.model", "simple3d", "--ckpt_path", "last"])
    assert resumed["path"] == str(simple_checkpoint)


def test_ckpt_path_last_without_a_matching_run_stops_naming_what_it_found(synth_root, tmp_path, capsys):
    common = ["--trainer.accelerator", "cpu", "--trainer.enable_progress_bar", "false", "--trainer.max_epochs", "1",
              "--trainer.limit_train_batches", "1", "--trainer.limit_val_batches", "1", "--data.batch_size", "4",
              "--data.num_workers", "0", *[f"--data.{key}={value}" for key, value in CLIP.items()],
              "--data.root", str(synth_root), "--trainer.default_root_dir", str(tmp_path), "--model.model", "simple3d"]
    main(["fit", *common])
    classes = sorted(path.name for path in (synth_root / "train").iterdir())
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *common, "--data.classes", json.dumps(classes[::-1]), "--ckpt_path", "last"])  # other class order
    error = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(error.splitlines()) == 1
    assert "no checkpoint of simple3d with these" in error and "(simple3d, " in error and ".ckpt" in error


def common_args(synth_root, root) -> list[str]:
    return ["--trainer.accelerator", "cpu", "--trainer.enable_progress_bar", "false", "--trainer.max_epochs", "1",
            "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1", "--data.batch_size", "4",
            "--data.num_workers", "0", "--data.root", str(synth_root), "--trainer.default_root_dir", str(root)]


def test_a_checkpoints_settings_are_defaults_the_users_flags_override(synth_root, tmp_path, monkeypatch):
    tiny_clip = [f"--data.{key}={value}" for key, value in CLIP.items()]
    main(["fit", *common_args(synth_root, tmp_path), *tiny_clip, "--model.model", "simple3d", "--model.lr", "0.05"])
    seen = {}

    def record(trainer, model, datamodule=None, ckpt_path=None, **kwargs):
        seen.update(lr=model.hparams.lr, model=model.hparams.model, frames=model.clip_preset.num_frames,
                    ckpt_path=ckpt_path, nonfinite=model.hparams.nonfinite_loss)

    monkeypatch.setattr(L.Trainer, "fit", record)
    # no --model.model, no clip flags: the checkpoint's; --model.lr given: the user's, also over the checkpoint's
    main(["fit", *common_args(synth_root, tmp_path), "--ckpt_path", "last", "--model.model", "simple3d",
          "--model.lr", "0.1", "--model.nonfinite_loss", "skip"])
    assert seen["lr"] == 0.1 and seen["nonfinite"] == "skip" and seen["model"] == "simple3d"
    assert seen["frames"] == CLIP["num_frames"]  # the clip it was trained on, not simple3d's defaults
    assert seen["ckpt_path"].endswith(".ckpt")


def test_resuming_from_an_epochs_end_trains_on(synth_root, tmp_path):
    args = [*common_args(synth_root, tmp_path), *[f"--data.{key}={value}" for key, value in CLIP.items()],
            "--model.model", "simple3d"]
    main(["fit", *args])
    main(["fit", *args, "--trainer.max_epochs", "2", "--ckpt_path", "last"])  # no batch of epoch 0 runs again
    assert len(list(tmp_path.rglob("*.ckpt"))) == 2


def test_a_class_list_other_than_the_checkpoints_is_refused_in_one_line(synth_root, tmp_path, tiny_checkpoint, capsys):
    classes = sorted(path.name for path in (synth_root / "train").iterdir())
    with pytest.raises(SystemExit) as exit_info:
        main(["test", *common_args(synth_root, tmp_path), "--ckpt_path", str(tiny_checkpoint),
              "--data.classes", json.dumps(classes[::-1])])
    error = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(error.splitlines()) == 1
    assert "another order than the model's 4 (its checkpoint's)" in error
