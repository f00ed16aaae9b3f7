"""MixUp and CutMix of training batches (torchvision.transforms.v2) on vidcls's B×C×T×H×W clips, for any model."""

import pytest
import torch
from torchvision import tv_tensors

from vidcls.training.classifier import batch_mixing
from vidcls.training.config import run_lightning

LABELS = torch.tensor([0, 1, 2, 3])


def mix(mixup_alpha: float, cutmix_alpha: float, seed: int = 0):
    torch.manual_seed(seed)
    videos = torch.rand(4, 3, 5, 16, 16)
    mixed, targets = batch_mixing(4, mixup_alpha, cutmix_alpha)(tv_tensors.Video(videos), LABELS)
    return videos, mixed.as_subclass(torch.Tensor), targets


def test_cutmix_pastes_one_box_through_every_channel_and_frame_and_labels_it_by_area():
    videos, mixed, targets = mix(0.0, 1.0)
    partner = videos.roll(1, 0)  # torchvision mixes each clip with the previous one in the batch
    for i in range(4):
        box = (mixed[i] == partner[i]).all(0).all(0)  # H×W: where every channel of every frame is the partner's
        assert torch.equal(mixed[i][..., ~box], videos[i][..., ~box])
        share = box.float().mean()
        assert 0 < share < 1
        assert targets[i, LABELS[i]] == pytest.approx(1 - share) and targets[i, LABELS[i - 1]] == pytest.approx(share)


def test_mixup_blends_whole_clips_with_the_weights_of_their_targets():
    videos, mixed, targets = mix(0.8, 0.0)
    lam = targets[0, 0]
    assert 0 < lam < 1 and torch.allclose(targets.sum(1), torch.ones(4))
    assert torch.allclose(mixed, lam * videos + (1 - lam) * videos.roll(1, 0), atol=1e-6)


def test_multi_hot_targets_mix_with_the_weights_of_their_clips():
    multi_hot = torch.tensor([[1.0, 1.0, 0, 0], [0, 0, 0, 0], [0, 1.0, 0, 1.0], [0, 0, 1.0, 0]])  # a negative too
    for mixup_alpha, cutmix_alpha in ((0.8, 0.0), (0.0, 1.0)):
        torch.manual_seed(0)
        videos = torch.rand(4, 3, 5, 16, 16)
        mixed, targets = batch_mixing(4, mixup_alpha, cutmix_alpha)(tv_tensors.Video(videos), multi_hot)
        mixed = mixed.as_subclass(torch.Tensor)
        for i in range(4):
            own = ((mixed[i] - videos[i - 1]) / (videos[i] - videos[i - 1])).median()  # the clip's own share
            if cutmix_alpha:
                own = 1 - (mixed[i] == videos[i - 1]).all(0).all(0).float().mean()  # outside the pasted box
            assert torch.allclose(targets[i], own * multi_hot[i] + (1 - own) * multi_hot[i - 1], atol=1e-4)


def test_both_alphas_take_one_of_the_two_per_batch_and_none_turns_mixing_off():
    kinds = set()
    for seed in range(12):
        videos, mixed, _ = mix(0.8, 1.0, seed)
        kinds.add("cutmix" if ((mixed == videos) | (mixed == videos.roll(1, 0))).all() else "mixup")
    assert kinds == {"mixup", "cutmix"}
    assert batch_mixing(4, 0.0, 0.0) is None


def test_training_with_mixing_scores_top1_on_the_largest_share(synth_root, tmp_path):
    cli = run_lightning(["fit", "--model.model", "simple3d", "--model.mixup_alpha", "0.8", "--model.cutmix_alpha", "1.0",
                         "--data.root", str(synth_root), "--trainer.default_root_dir", str(tmp_path),
                         "--trainer.accelerator", "cpu", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
                         "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar", "false",
                         "--data.batch_size", "4", "--data.num_workers", "0", "--data.num_frames", "4",
                         "--data.crop_size", "32", "--data.min_scale", "32", "--data.max_scale", "36",
                         "--data.eval_resize", "32"])
    metrics = cli.trainer.callback_metrics  # the accuracy metrics take class indices: soft targets would fail them
    assert 0 <= metrics["train/top1"] <= 1 and torch.isfinite(metrics["train/loss"])
