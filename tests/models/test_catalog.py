"""The torch-free catalogue against the libraries it cites: torchvision's weights enums and PyTorchVideo's hub.

Every number the catalogue copies from a library (preset, weights URL, published top-1, parameter
count) is read back from the installed library here, so an upgrade that changes one, or a typo,
fails a test instead of training on the wrong clips.
"""

import re
import subprocess
import sys
import warnings

import pytest
import torch
from torchvision.models import video

from vidcls.clip import SOURCE_FPS
from vidcls.models import build_model, describe_model, get_preset, list_models, model_entry
from vidcls.models.catalog import PTV, TV
from vidcls.models.pytorchvideo_models import SLOWFAST_ALPHA

with warnings.catch_warnings():  # pytorchvideo 0.1.5 calls the deprecated torch.jit.script at import
    warnings.simplefilter("ignore", FutureWarning)
    from pytorchvideo.models.hub import r2plus1d, resnet, slowfast, x3d

TORCHVISION = {
    "r3d_18": video.R3D_18_Weights,
    "mc3_18": video.MC3_18_Weights,
    "r2plus1d_18": video.R2Plus1D_18_Weights,
    "s3d": video.S3D_Weights,
    "mvit_v2_s": video.MViT_V2_S_Weights,
    "swin3d_t": video.Swin3D_T_Weights,
}
PYTORCHVIDEO = {"slow_r50": resnet, "x3d_xs": x3d, "x3d_s": x3d, "x3d_m": x3d, "slowfast_r50": slowfast,
                "r2plus1d_r50": r2plus1d}  # name -> its hub module (pytorchvideo/models/hub/<family>.py)


def described(name: str) -> dict:
    """What a model's one-line description claims: clip (frames x sampling rate at crop²), top-1, parameters."""
    text = describe_model(name)
    frames, rate, crop = re.search(r"(\d+)x(\d+)\b.*? at (\d+)²", text).groups()
    return {
        "frames": int(frames), "rate": int(rate), "crop": int(crop),
        "top1": float(re.search(r"Kinetics-400 ([\d.]+) % top-1", text).group(1)),
        "millions": float(re.search(r"([\d.]+) M parameters", text).group(1)),
    }


def parameters_in_millions(name: str) -> float:
    with torch.device("meta"):  # shapes only: no memory, no time
        model = build_model(name, num_classes=400)
    return round(sum(p.numel() for p in model.parameters()) / 1e6, 1)


def test_every_kinetics_model_is_checked_here(hub_families):
    # the Hub families take their clip from a checkpoint, not from a catalogue entry: tests/models/test_hf.py
    assert set(list_models()) - set(TORCHVISION) - set(PYTORCHVIDEO) - set(hub_families) == {"simple3d"}
    assert get_preset("simple3d") is None and model_entry("simple3d").weights_url is None


@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_models_are_their_weights_enums(name):
    weights = TORCHVISION[name].KINETICS400_V1
    transforms, meta = weights.transforms(), weights.meta
    preset = get_preset(name)
    assert preset.crop_size == transforms.crop_size[0] == transforms.crop_size[-1]
    assert preset.eval_resize == min(transforms.resize_size)  # short side ([128, 171] is h, w)
    assert preset.mean == tuple(transforms.mean) and preset.std == tuple(transforms.std)
    assert model_entry(name).weights_url == weights.url
    claims = described(name)
    assert claims["top1"] == meta["_metrics"]["Kinetics-400"]["acc@1"]
    assert claims["millions"] == round(meta["num_params"] / 1e6, 1) == parameters_in_millions(name)
    # `frame_rate=15`, `clip_len=16`: the clips the published accuracy was measured on
    frame_rate = float(re.search(r"frame_rate=([\d.]+)", meta["_docs"]).group(1))
    clip_len = int(re.search(r"clip_len=(\d+)", meta["_docs"]).group(1))
    assert preset.clip_duration == pytest.approx(preset.num_frames / frame_rate)
    assert (claims["frames"], claims["rate"], claims["crop"]) == (
        preset.num_frames, round(SOURCE_FPS / frame_rate), preset.crop_size)
    if name == "s3d":  # trained on 64 frames (references/video_classification), evaluated on 128
        assert (preset.num_frames, clip_len) == (64, 128)
    else:
        assert preset.num_frames == clip_len


def test_mvit_preset_is_the_input_its_weights_fix():
    meta = video.MViT_V2_S_Weights.KINETICS400_V1.meta
    preset = get_preset("mvit_v2_s")
    assert (preset.num_frames, preset.crop_size, preset.crop_size) == (meta["min_temporal_size"], *meta["min_size"])


@pytest.mark.parametrize("name", PYTORCHVIDEO)
def test_pytorchvideo_models_are_their_hub_entries(name):
    hub_module = PYTORCHVIDEO[name]
    assert model_entry(name).weights_url == hub_module.checkpoint_paths[name]
    claims = described(name)
    docstring = " ".join(getattr(hub_module, name).__doc__.split())
    assert claims["top1"] == float(re.search(r"top1 accuracy of (\d+(?:\.\d+)?)", docstring).group(1))
    assert claims["millions"] == parameters_in_millions(name)
    preset = get_preset(name)
    rate = preset.clip_duration * SOURCE_FPS / preset.num_frames
    assert rate == pytest.approx(round(rate)) and (claims["frames"], claims["rate"], claims["crop"]) == (
        preset.num_frames, round(rate), preset.crop_size)


@pytest.mark.parametrize("name, setting", [("slow_r50", "8x8"), ("r2plus1d_r50", "16x4"), ("slowfast_r50", "8x8")])
def test_frames_and_sampling_rate_are_the_hub_setting(name, setting):
    docstring = " ".join(getattr(PYTORCHVIDEO[name], name).__doc__.split())
    assert f"{setting} setting" in docstring
    preset = get_preset(name)
    frames, rate = preset.num_frames, round(preset.clip_duration * SOURCE_FPS / preset.num_frames)
    if name == "slowfast_r50":  # the hub's setting is the slow pathway's: alpha times fewer frames, alpha times apart
        frames, rate = frames // SLOWFAST_ALPHA, rate * SLOWFAST_ALPHA
    assert f"{frames}x{rate}" == setting


@pytest.mark.parametrize("name", ["x3d_xs", "x3d_s", "x3d_m"])
def test_x3d_presets_are_the_clips_the_hub_builds_for(name, monkeypatch):
    """The hub sizes each X3D's head for its clip (input_clip_length, input_crop_size): our preset is that clip."""
    monkeypatch.setattr(x3d, "create_x3d", lambda **settings: settings)  # what the hub builder asks for
    settings = getattr(x3d, name)()
    preset = get_preset(name)
    assert (preset.num_frames, preset.crop_size) == (settings["input_clip_length"], settings["input_crop_size"])


def test_the_catalogue_imports_no_torch():
    code = ("import sys; import vidcls.models as m; m.list_models(); m.get_preset('x3d_s'); m.describe_model('x3d_s');"
            "print(sorted(n for n in sys.modules if n.split('.')[0] in ('torch', 'torchvision', 'pytorchvideo')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_each_family_evaluates_with_its_reference_librarys_rounding():
    for name in list_models():
        card = model_entry(name)
        expected = {PTV: "pytorchvideo", TV: "torchvision"}.get(str(card.builder).partition(":")[0])
        if expected:
            assert card.preset.eval_rounding == expected, name
