"""The run's task: the model's when given (typed or its checkpoint's), else the data's, else multiclass; label sets
need multilabel. link_run hands it to both sides: multi-hot targets for the data, BCE and mAP for the model."""

import pytest
import torch

from vidcls.data.datamodule import VideoDataModule
from vidcls.errors import VidclsError
from vidcls.training.classifier import VideoClassifier
from vidcls.training.run import link_run, resolve_task


def test_a_given_task_wins_label_sets_need_multilabel_and_nothing_given_is_multiclass():
    assert resolve_task(None, None) == "multiclass"
    assert resolve_task(None, "multilabel") == "multilabel"
    assert resolve_task("multilabel", None) == "multilabel"  # one label per video: a multi-hot vector with one 1
    with pytest.raises(VidclsError, match=r"^the data gives videos several labels \(multi-label\), but the model's task is"
                                          r" multiclass"):
        resolve_task("multiclass", "multilabel")


def test_link_run_gives_a_tag_list_multi_hot_targets_and_the_model_its_loss(tag_lists, motion_tags):
    data = VideoDataModule(train_list=str(tag_lists["train"]), num_frames=2, crop_size=16, min_scale=16, max_scale=20,
                           eval_resize=16, num_workers=0)
    model = VideoClassifier("simple3d")
    run = link_run(model, data)
    assert run.task == model.task == model.hparams.task == "multilabel"
    assert isinstance(model.loss, torch.nn.BCEWithLogitsLoss) and hasattr(model, "train_map")
    data.setup("fit")
    dataset = data.datasets["train"]
    for index in (0, len(dataset) - 1):
        tags = motion_tags[dataset.samples[index].path.parent.name]
        expected = torch.tensor([float(name in tags) for name in run.classes])
        assert torch.equal(dataset[index]["label"], expected)


def test_single_label_data_stays_multiclass_unless_the_model_says_multilabel(synth_root, few_classes):
    data = VideoDataModule(root=str(synth_root), num_frames=2, crop_size=16, min_scale=16, max_scale=20, eval_resize=16,
                           num_workers=0)
    assert link_run(VideoClassifier("simple3d"), data).task == "multiclass"
    model = VideoClassifier("simple3d", classes=list(few_classes), task="multilabel")
    assert link_run(model, data).task == "multilabel" and isinstance(model.loss, torch.nn.BCEWithLogitsLoss)
    data.setup("fit")
    assert data.datasets["train"][0]["label"].tolist() == [1.0, 0.0, 0.0, 0.0]  # moving_down: one 1
