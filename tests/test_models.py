import pytest
import torch

from vidcls.models import build_model, list_models, register_model


def test_registry_lists_the_models():
    assert {"slow_r50", "simple3d"} <= set(list_models())
    assert list_models("slow*") == ["slow_r50"]


def test_unknown_model_names_the_choices():
    with pytest.raises(ValueError, match="unknown model 'resnet9000'.*simple3d"):
        build_model("resnet9000", 10)


def test_names_are_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        register_model("simple3d", "again")(lambda num_classes: None)


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
