"""Reading a checkpoint back: the classifier, its classes and its clip contract, also from before the contract."""

import re

import pytest
import torch

from vidcls.clip import ClipSpec
from vidcls.errors import VidclsError
from vidcls.training.checkpoints import checkpoint_hparams, load_checkpoint

TINY_CLIP = ClipSpec(num_frames=4, crop_size=32, min_scale=32, max_scale=36, eval_resize=32)  # tiny_args' clip flags


def test_load_checkpoint_gives_the_model_and_the_clip_it_was_trained_on(tiny_checkpoint, few_classes):
    model, clip = load_checkpoint(tiny_checkpoint)
    assert clip == TINY_CLIP
    assert model.classes == sorted(few_classes) and not model.training
    stored = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    assert stored["hyper_parameters"]["clip"] == TINY_CLIP.to_dict()  # once, in the classifier's hyperparameters
    for key, value in model.state_dict().items():
        assert torch.equal(value, stored["state_dict"][key]), key


def test_a_checkpoint_from_before_the_clip_contract_takes_its_clip_from_its_datamodule(tiny_checkpoint, tmp_path):
    stored = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    del stored["hyper_parameters"]["clip"]
    # what the datamodule saved then: every clip setting, among its loader settings
    stored["datamodule_hyper_parameters"] = {**TINY_CLIP.to_dict(), "batch_size": 4, "num_workers": 0, "root": "x"}
    legacy = tmp_path / "legacy.ckpt"
    torch.save(stored, legacy)
    model, clip = load_checkpoint(legacy)
    assert clip == TINY_CLIP and model.clip_preset == TINY_CLIP
    # settings it did not record are the defaults of the time (ClipSpec's)
    stored["datamodule_hyper_parameters"] = {"num_frames": 16, "batch_size": 4}
    assert checkpoint_hparams(stored, legacy)["clip"] == ClipSpec(num_frames=16).to_dict()


@pytest.mark.parametrize("content", [{"state_dict": {}}, {"hyper_parameters": {"classes": ["a"]}}, [1, 2]],
                         ids=["no-hyperparameters", "no-weights", "not-a-dict"])
def test_other_files_are_not_vidcls_checkpoints(content, tmp_path):
    path = tmp_path / "other.ckpt"
    torch.save(content, path)
    with pytest.raises(VidclsError, match=rf"^{re.escape(str(path))}: not a vidcls checkpoint \(no classes or no weights\)$"):
        load_checkpoint(path)


def test_missing_or_unreadable_checkpoints_are_one_line(tmp_path, synth_root):
    with pytest.raises(VidclsError, match=rf"^{re.escape(str(tmp_path))}/missing.ckpt: no such checkpoint$"):
        load_checkpoint(tmp_path / "missing.ckpt")
    video = next(synth_root.rglob("*.mp4"))
    with pytest.raises(VidclsError, match=rf"^{re.escape(str(video))}: not a checkpoint") as error:
        load_checkpoint(video)
    assert "\n" not in str(error.value)
