from dataclasses import replace

import lightning as L
import pytest
import torch

from vidcls.clip import ClipSpec
from vidcls.data.datamodule import VideoDataModule
from vidcls.errors import VidclsError
from vidcls.training.classifier import VideoClassifier
from vidcls.training.run import link_run


def attach_trainer(classifier, monkeypatch, steps, epochs):
    """A trainer that reports ``steps`` training steps in total, as Lightning computes from the loader."""
    monkeypatch.setattr(L.Trainer, "estimated_stepping_batches", property(lambda self: steps))
    classifier.trainer = L.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False)


def lrs_over_training(classifier, monkeypatch, steps=100, epochs=10):
    attach_trainer(classifier, monkeypatch, steps, epochs)
    config = classifier.configure_optimizers()
    optimizer, scheduler = config["optimizer"], config["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def test_linear_warmup_then_cosine_to_zero(monkeypatch):
    classifier = VideoClassifier("simple3d", classes=["a", "b"], lr=0.1, warmup_epochs=2, warmup_start_lr=0.01)
    lrs = lrs_over_training(classifier, monkeypatch, steps=100, epochs=10)
    assert lrs[0] == pytest.approx(0.01)
    assert lrs[10] == pytest.approx(0.01 + 0.09 * 10 / 20)
    assert lrs[20] == pytest.approx(0.1)  # peak right after 2 of 10 epochs
    assert all(a >= b for a, b in zip(lrs[20:], lrs[21:]))  # then only decreases
    assert lrs[60] == pytest.approx(0.05)  # half-way through the cosine
    assert lrs[-1] < 0.001


def test_optimizer_choice(monkeypatch):
    sgd = VideoClassifier("simple3d", classes=["a", "b"])
    attach_trainer(sgd, monkeypatch, steps=10, epochs=1)
    optimizer = sgd.configure_optimizers()["optimizer"]
    assert isinstance(optimizer, torch.optim.SGD) and optimizer.defaults["nesterov"]
    adamw = VideoClassifier("simple3d", classes=["a", "b"], optimizer="adamw", weight_decay=0.05)
    attach_trainer(adamw, monkeypatch, steps=10, epochs=1)
    assert isinstance(adamw.configure_optimizers()["optimizer"], torch.optim.AdamW)


def test_link_run_builds_the_network_for_the_data_classes_and_every_checkpoint_keeps_them(synth_root, tmp_path):
    datamodule = VideoDataModule(root=str(synth_root), batch_size=8, num_workers=0, crop_size=32,
                                 min_scale=36, max_scale=40, eval_resize=36, num_frames=4)
    classifier = VideoClassifier("simple3d", optimizer="adamw", lr=1e-3)
    assert classifier.network is None
    link_run(classifier, datamodule)
    assert classifier.network is not None
    trainer = L.Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=1, logger=False,
                        default_root_dir=tmp_path, enable_progress_bar=False)
    trainer.fit(classifier, datamodule)
    assert classifier.classes == datamodule.classes
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    restored = VideoClassifier.load_from_checkpoint(path, weights_only=True)
    assert restored.classes == datamodule.classes
    assert restored.clip_preset == datamodule.clip == ClipSpec(num_frames=4, crop_size=32, min_scale=36, max_scale=40,
                                                                eval_resize=36)  # the clips it was trained on
    for key, value in classifier.state_dict().items():
        assert torch.equal(value, restored.state_dict()[key]), key


def test_a_classifier_never_linked_to_its_data_says_so_in_one_line(synth_root):
    classifier = VideoClassifier("simple3d")
    classifier.trainer = L.Trainer(logger=False)
    with pytest.raises(VidclsError, match=r"^VideoClassifier has no classes: link it to its data first"):
        classifier.setup("fit")
    datamodule = VideoDataModule(root=str(synth_root))
    with pytest.raises(VidclsError, match=r"^the VideoDataModule was never linked"):  # classes alone: the clip unknown
        L.Trainer(logger=False).fit(VideoClassifier("simple3d", classes=datamodule.classes), datamodule)


def test_a_checkpoint_tested_on_data_never_linked_to_it_says_so(synth_root, tiny_checkpoint):
    """Its clip and classes are the checkpoint's: a datamodule left to its defaults would cut 8×224² clips."""
    model = VideoClassifier.load_from_checkpoint(tiny_checkpoint, weights_only=True)
    with pytest.raises(VidclsError, match=r"^the VideoDataModule was never linked"):
        L.Trainer(logger=False, enable_progress_bar=False).test(model, VideoDataModule(root=str(synth_root), num_workers=0))
    data = VideoDataModule(root=str(synth_root), num_workers=0)
    link_run(model, data)
    assert data.clip == model.clip_preset and data.clip.num_frames == 4  # the checkpoint's clip, not the defaults


def test_the_models_clip_feeds_the_data_and_every_checkpoint(synth_root, tmp_path):
    """A classifier that knows its clip (a checkpoint's, or a preset's) hands it to a datamodule given none."""
    clip = ClipSpec(num_frames=2, clip_duration=1.0, crop_size=16, min_scale=16, max_scale=20, eval_resize=16)
    classifier = VideoClassifier("simple3d", clip=clip.to_dict(), optimizer="adamw", lr=1e-3)
    assert classifier.clip_preset == clip
    datamodule = VideoDataModule(root=str(synth_root), batch_size=4, num_workers=0, hflip_prob=0.0)
    seen = []

    class Record(L.Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            seen.append(tuple(batch["video"].shape))

    trainer = L.Trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=0, logger=False, enable_progress_bar=False,
                        default_root_dir=tmp_path, callbacks=[Record()])
    link_run(classifier, datamodule)
    trainer.fit(classifier, datamodule)
    assert seen == [(4, 3, 2, 16, 16)]
    assert datamodule.clip == replace(clip, hflip_prob=0.0)  # the data's own value wins, the rest is the model's
    trainer.save_checkpoint(tmp_path / "model.ckpt")
    stored = torch.load(tmp_path / "model.ckpt", weights_only=True)["hyper_parameters"]["clip"]
    assert ClipSpec.from_dict(stored) == replace(clip, hflip_prob=0.0)


@pytest.mark.parametrize("task, pooling", [("multiclass", "mean"), ("multiclass", "max"), ("multilabel", "max"),
                                           ("multilabel", "mean")])
def test_a_test_video_scores_its_views_by_the_task_and_pools_them_by_the_clip(task, pooling):
    torch.manual_seed(0)
    clip = ClipSpec(num_frames=2, crop_size=16, min_scale=16, max_scale=16, eval_resize=16, test_clips=3,
                    view_pooling=pooling)
    classifier = VideoClassifier("simple3d", classes=["a", "b", "c"], clip=clip.to_dict(), task=task).eval()
    videos = torch.randn(2, 3, 3, 2, 16, 16)  # 2 videos × 3 views
    classifier.on_test_epoch_start()
    with torch.no_grad():
        classifier.test_step({"video": videos, "label": torch.zeros(2, 3), "index": torch.arange(2)}, 0)
        logits = torch.stack([classifier.network(video) for video in videos])  # video by video, view by view
    probabilities = logits.softmax(-1) if task == "multiclass" else torch.sigmoid(logits)
    expected = probabilities.mean(1) if pooling == "mean" else probabilities.max(1).values
    torch.testing.assert_close(classifier._test_results[0][1], expected)
