"""The LightningCLI behind `vidcls fit/test`: configs name a model and get its clip; given values win."""

from dataclasses import replace
from pathlib import Path

import pytest

from vidcls.cli import main
from vidcls.clip import ClipSpec, resolve_clip
from vidcls.models import get_preset
from vidcls.training.config import run_lightning
from vidcls.training.run import link_run

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "finetune_folder.yaml"
VIDEOMAE_RECIPE = CONFIG.with_name("finetune_videomae.yaml")


def parsed(synth_root, tmp_path, *args):
    """``vidcls fit ARGS`` parsed, built and linked as ``vidcls fit`` does it, then the data set up as ``trainer.fit`` does."""
    cli = run_lightning(["--trainer.accelerator", "cpu", "--trainer.logger", "false", "--data.root", str(synth_root),
                         "--trainer.default_root_dir", str(tmp_path), *args], run=False)
    link_run(cli.model, cli.datamodule)
    cli.datamodule.trainer = cli.trainer
    cli.datamodule.setup("fit")
    return cli


def test_fit_takes_the_clip_from_the_model_preset_except_each_value_given(synth_root, tmp_path):
    # each value given equals ClipSpec's default, and still wins over x3d_s's (160² crops of a 182-228 short side)
    given = {"crop_size": 224, "min_scale": 256, "max_scale": 320, "eval_resize": 256}
    flags = [part for key, value in given.items() for part in (f"--data.{key}", str(value))]
    cli = parsed(synth_root, tmp_path, "--model.model", "x3d_s", *flags)
    clip = cli.datamodule.clip
    assert clip == replace(get_preset("x3d_s"), **given)
    assert (clip.num_frames, clip.clip_duration, clip.hflip_prob) == (13, pytest.approx(13 * 6 / 30), 0.5)  # the preset's
    train = cli.datamodule.datasets["train"]
    assert (train.num_frames, train.transform.crop_size, train.transform.min_scale, train.transform.max_scale) == (
        13, 224, 256, 320)


def test_a_model_without_preset_gets_the_defaults(synth_root, tmp_path):
    cli = parsed(synth_root, tmp_path, "--model.model", "simple3d", "--data.num_frames", "4")
    assert cli.datamodule.clip == ClipSpec(num_frames=4)


def test_a_given_crop_takes_the_presets_untyped_sizes_along_in_proportion(synth_root, tmp_path):
    # x3d_s's scales (182-228, eval 182) were made for a 160 crop: at 224 they follow, x1.4
    cli = parsed(synth_root, tmp_path, "--model.model", "x3d_s", "--data.crop_size", "224", "--data.max_scale", "300")
    preset = get_preset("x3d_s")
    assert cli.datamodule.clip == replace(preset, crop_size=224, min_scale=255, max_scale=300, eval_resize=255)
    train = cli.datamodule.datasets["train"]
    assert (train.transform.crop_size, train.transform.min_scale, train.transform.max_scale) == (224, 255, 300)
    assert cli.model.clip_preset == cli.datamodule.clip  # the contract every checkpoint of the run stores


def test_typed_sizes_that_cannot_work_together_are_one_line_naming_them(synth_root, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "--trainer.accelerator", "cpu", "--trainer.logger", "false", "--data.root", str(synth_root),
              "--trainer.default_root_dir", str(tmp_path), "--model.model", "x3d_s", "--data.crop_size", "224",
              "--data.min_scale", "200"])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == ("vidcls: error: clip settings: min_scale 200 is below crop_size 224: the training crop would not fit"
                    " (given: crop_size 224, min_scale 200)")


def test_finetune_config_names_only_the_model_and_gets_its_preset():
    cli = run_lightning(["--config", str(CONFIG), "--trainer.accelerator", "cpu", "--trainer.logger", "false"], run=False)
    assert (cli.model.hparams.model, cli.model.hparams.pretrained) == ("x3d_s", "x3d_s")
    assert cli.model.network is None  # built, and the weights fetched, only when the run is linked
    datamodule = cli.datamodule
    assert datamodule.hparams.root == "my_videos"
    assert resolve_clip(cli.model.clip_preset, datamodule.given_clip) == get_preset("x3d_s")


def test_the_videomae_recipe_trains_with_randaugment_and_random_erasing(hub_checkpoint):
    # the recipe's Hub id replaced by a local checkpoint of the same family (no network here)
    cli = run_lightning(["--config", str(VIDEOMAE_RECIPE), "--trainer.accelerator", "cpu", "--trainer.logger", "false",
                         "--model.pretrained", str(hub_checkpoint("videomae"))], run=False)
    datamodule = cli.datamodule
    clip = resolve_clip(cli.model.clip_preset, datamodule.given_clip)
    assert (clip.randaug_ops, clip.randaug_magnitude, clip.erase_prob) == (4, 7, 0.25)  # rand-m7-n4, reprob 0.25
    assert (clip.test_clips, clip.test_crops, datamodule.hparams.clips_per_video) == (5, 3, 2)
