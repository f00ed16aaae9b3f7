"""The networks: every built-in model takes its preset clip, returns logits, trains, and has its head where the catalogue says."""

import pytest
import torch
import torchvision.models.video.mvit as torchvision_mvit
from torch import nn

from vidcls.models import build_model, get_preset, model_entry
from vidcls.models.pytorchvideo_models import SLOWFAST_ALPHA, SlowFast


def test_simple3d_gives_logits_for_any_clip_size():
    model = build_model("simple3d", num_classes=5).eval()
    for shape in [(2, 3, 8, 64, 64), (1, 3, 4, 48, 80)]:
        assert model(torch.randn(shape)).shape == (shape[0], 5)


def test_slow_r50_is_pytorchvideos_resnet50():
    model = build_model("slow_r50", num_classes=400)
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(32.45e6, rel=0.01)  # model zoo: 32.45 M
    assert model.blocks[0].conv.weight.shape == (64, 3, 1, 7, 7)
    assert isinstance(model.blocks[1].res_blocks[0].branch2.norm_a, torch.nn.BatchNorm3d)


def test_slow_r50_head_pools_any_input_size():
    model = build_model("slow_r50", num_classes=7, stem_dim_out=8).eval()  # narrow: fast on a CPU
    with torch.no_grad():
        for shape in [(1, 3, 8, 64, 64), (2, 3, 4, 96, 128)]:
            assert model(torch.randn(shape)).shape == (shape[0], 7)


def test_slow_r50_takes_factory_options():
    model = build_model("slow_r50", num_classes=3, stem_conv_kernel_size=(3, 7, 7), stem_dim_out=8)
    assert model.blocks[0].conv.weight.shape == (8, 3, 3, 7, 7)


# --- Kinetics-400 models from PyTorchVideo and torchvision, with their input presets ---

NEW_MODELS = ["x3d_xs", "x3d_s", "x3d_m", "slowfast_r50", "r2plus1d_r50",
              "r3d_18", "mc3_18", "r2plus1d_18", "s3d", "mvit_v2_s", "swin3d_t"]
# Real computation at the full preset input where one forward takes a few seconds on 2 CPU cores;
# the others (5-15 s each) are run at it on the meta device, which checks every shape and costs nothing.
CHEAP_AT_PRESET = ["x3d_xs", "x3d_s", "x3d_m", "r3d_18", "mc3_18", "r2plus1d_18"]


def preset_clip(name, batch=1):
    preset = get_preset(name)
    return torch.randn(batch, 3, preset.num_frames, preset.crop_size, preset.crop_size)


@pytest.mark.parametrize("name", NEW_MODELS)
def test_model_takes_its_preset_input_and_its_head_is_the_last_layer(name):
    with torch.device("meta"):
        model = build_model(name, num_classes=7).eval()
        assert model(preset_clip(name, batch=2)).shape == (2, 7)
    head = model.get_submodule(model_entry(name).head)
    assert isinstance(head, (nn.Linear, nn.Conv3d)) and head.weight.shape[0] == 7


@pytest.mark.parametrize("name", CHEAP_AT_PRESET)
def test_forward_at_the_preset_input(name):
    model = build_model(name, num_classes=7).eval()
    with torch.no_grad():
        logits = model(preset_clip(name))
    assert logits.shape == (1, 7) and torch.isfinite(logits).all()


@pytest.fixture
def small_mvit(monkeypatch):
    """mvit_v2_s fixes its input size (16x224²) and hard-codes it: shrink it to 4x32² for a fast step."""
    build = torchvision_mvit._mvit
    monkeypatch.setattr(torchvision_mvit, "_mvit", lambda **kw: build(**{**kw, "spatial_size": (32, 32), "temporal_size": 4}))


# The smallest clips each model takes (SlowFast needs T divisible by alpha; S3D pools 8x in time),
# and narrower stems where a factory allows: a training step then costs a second or two.
TRAIN_CASES = {
    "x3d_xs": ((4, 32), {}), "x3d_s": ((4, 32), {}), "x3d_m": ((4, 32), {}),
    "slowfast_r50": ((8, 32), {"stem_dim_outs": (16, 2)}),
    "r2plus1d_r50": ((4, 32), {"stem_dim_out": 16}),
    "r3d_18": ((4, 32), {}), "mc3_18": ((4, 32), {}), "r2plus1d_18": ((4, 32), {}),
    "s3d": ((8, 32), {}), "mvit_v2_s": ((4, 32), {}), "swin3d_t": ((4, 32), {}),
}


@pytest.mark.parametrize("name", NEW_MODELS)
def test_one_training_step_changes_the_weights(name, small_mvit):
    (frames, size), options = TRAIN_CASES[name]
    torch.manual_seed(0)
    model = build_model(name, num_classes=3, **options).train()
    head = model.get_submodule(model_entry(name).head)
    before = head.weight.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = nn.functional.cross_entropy(model(torch.randn(2, 3, frames, size, size)), torch.tensor([0, 2]))
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss) and not torch.equal(before, head.weight)


def test_slowfast_alpha_is_the_builders_and_sets_the_fusion_stride():
    with torch.device("meta"):
        default = build_model("slowfast_r50", num_classes=3)
        halved = build_model("slowfast_r50", num_classes=3, alpha=2)
        assert halved(torch.empty(1, 3, 8, 64, 64)).shape == (1, 3)  # 8 frames: slow pathway 4
    assert default.alpha == SLOWFAST_ALPHA == 4 and halved.alpha == 2
    fusion = [m for name, m in default.named_modules() if name.endswith("multipathway_fusion.conv_fast_to_slow")]
    assert fusion and all(conv.stride == (4, 1, 1) for conv in fusion)
    fusion = [m for name, m in halved.named_modules() if name.endswith("multipathway_fusion.conv_fast_to_slow")]
    assert all(conv.stride == (2, 1, 1) for conv in fusion)


def test_slowfast_packs_pathways_as_pytorchvideo():
    """Slow frames are linspace(0, T - 1, T // alpha), as pytorchvideo_trainer's SlowFastPackPathway."""
    model = SlowFast(nn.ModuleList([nn.Identity()]), alpha=4)
    clip = torch.arange(32.0).view(1, 1, 32, 1, 1)  # frame i holds the value i
    slow, fast = model(clip)
    assert slow.flatten().tolist() == [0, 4, 8, 13, 17, 22, 26, 31] and torch.equal(fast, clip)


def test_mvit_rejects_other_input_sizes():
    with torch.device("meta"), pytest.raises(RuntimeError):
        build_model("mvit_v2_s", num_classes=3)(torch.empty(1, 3, 8, 112, 112))
