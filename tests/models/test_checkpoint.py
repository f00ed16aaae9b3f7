"""Reading a checkpoint back below training: the network, its classes and its clip contract, also from before the contract."""

import re

import pytest
import torch

from vidcls.clip import ClipSpec
from vidcls.errors import VidclsError
from vidcls.models.checkpoint import checkpoint_hparams, load_network

TINY_CLIP = ClipSpec(num_frames=4, crop_size=32, min_scale=32, max_scale=36, eval_resize=32)  # tiny_args' clip flags


def test_load_network_gives_the_network_classes_and_clip_it_was_trained_on(tiny_checkpoint, few_classes):
    loaded = load_network(tiny_checkpoint)
    assert loaded.clip == TINY_CLIP and loaded.model == "simple3d"
    assert loaded.classes == sorted(few_classes) and not loaded.network.training
    stored = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    assert stored["hyper_parameters"]["clip"] == TINY_CLIP.to_dict()  # once, in the classifier's hyperparameters
    weights = loaded.network.state_dict()
    assert {f"network.{key}" for key in weights} == {key for key in stored["state_dict"] if key.startswith("network.")}
    for key, value in weights.items():
        assert torch.equal(value, stored["state_dict"][f"network.{key}"]), key
    clips = torch.randn(2, *TINY_CLIP.input_shape)
    with torch.inference_mode():
        assert loaded.network(clips).shape == (2, len(few_classes))


def test_a_checkpoint_from_before_the_clip_contract_takes_its_clip_from_its_datamodule(tiny_checkpoint, tmp_path):
    stored = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    del stored["hyper_parameters"]["clip"]
    # what the datamodule saved then: every clip setting, among its loader settings
    stored["datamodule_hyper_parameters"] = {**TINY_CLIP.to_dict(), "batch_size": 4, "num_workers": 0, "root": "x"}
    legacy = tmp_path / "legacy.ckpt"
    torch.save(stored, legacy)
    assert load_network(legacy).clip == TINY_CLIP
    # settings it did not record are the defaults of the time (ClipSpec's)
    stored["datamodule_hyper_parameters"] = {"num_frames": 16, "batch_size": 4}
    assert checkpoint_hparams(stored, legacy)["clip"] == ClipSpec(num_frames=16).to_dict()


def test_a_checkpoint_records_its_task_and_one_from_before_the_task_is_multiclass(tiny_checkpoint, multilabel_checkpoint,
                                                                                 tmp_path):
    assert load_network(multilabel_checkpoint).task == "multilabel"
    stored = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    assert stored["hyper_parameters"]["task"] == load_network(tiny_checkpoint).task == "multiclass"
    del stored["hyper_parameters"]["task"]
    torch.save(stored, tmp_path / "before.ckpt")
    assert load_network(tmp_path / "before.ckpt").task == "multiclass"
def test_a_clip_stored_before_a_setting_existed_takes_that_setting_from_its_models_preset(tiny_checkpoint):
    stored = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    clip = dict(stored["hyper_parameters"]["clip"])
    del clip["eval_rounding"], clip["sampling"]  # as written before today
    stored["hyper_parameters"] |= {"clip": clip, "model": "x3d_xs"}  # a PyTorchVideo model: its own rounding
    restored = checkpoint_hparams(stored, "old.ckpt")["clip"]
    assert restored == {**clip, "eval_rounding": "pytorchvideo", "sampling": "dense"}


@pytest.mark.parametrize("content", [{"state_dict": {}}, {"hyper_parameters": {"classes": ["a"]}}, [1, 2]],
                         ids=["no-hyperparameters", "no-weights", "not-a-dict"])
def test_other_files_are_not_vidcls_checkpoints(content, tmp_path):
    path = tmp_path / "other.ckpt"
    torch.save(content, path)
    with pytest.raises(VidclsError, match=rf"^{re.escape(str(path))}: not a vidcls checkpoint \(no classes or no weights\)$"):
        load_network(path)


def test_weights_that_do_not_fit_the_recorded_model_are_one_line(tiny_checkpoint, tmp_path):
    stored = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    stored["hyper_parameters"]["classes"] = ["one", "two"]  # the head was trained for 4
    path = tmp_path / "misfit.ckpt"
    torch.save(stored, path)
    with pytest.raises(VidclsError, match=rf"^{re.escape(str(path))}: the weights do not fit simple3d as recorded: "
                                          r"2 keys missing, unexpected or of another shape, e.g. \S+$"):
        load_network(path)


def test_missing_or_unreadable_checkpoints_are_one_line(tmp_path, synth_root):
    with pytest.raises(VidclsError, match=rf"^{re.escape(str(tmp_path))}/missing.ckpt: no such checkpoint$"):
        load_network(tmp_path / "missing.ckpt")
    video = next(synth_root.rglob("*.mp4"))
    with pytest.raises(VidclsError, match=rf"^{re.escape(str(video))}: not a checkpoint") as error:
        load_network(video)
    assert "\n" not in str(error.value)
