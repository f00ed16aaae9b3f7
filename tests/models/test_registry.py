"""The model registry: names, lookup errors, your own models, builders imported on first use."""

import re
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torchvision.models import video

from vidcls.clip import ClipSpec
from vidcls.errors import VidclsError
from vidcls.models import (
    build_model,
    describe_model,
    get_preset,
    list_models,
    model_entry,
    published_classes,
    register_model,
    registry,
)
from vidcls.models.pretrained import freeze_all_but_head
from vidcls.models.registry import ModelCard, add_model


@pytest.fixture
def scratch_registry(monkeypatch):
    """The registry as it is, for this test only: models registered here are gone afterwards."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def test_list_models_filters_with_a_shell_pattern():
    names = list_models()
    assert names == sorted(names) and {"slow_r50", "simple3d", "x3d_s"} <= set(names)
    assert list_models("x3d_*") == ["x3d_m", "x3d_s", "x3d_xs"]
    assert list_models("nothing*") == []


def test_unknown_model_names_the_choices():
    with pytest.raises(ValueError, match="unknown model 'resnet9000'.*simple3d"):
        build_model("resnet9000", 10)
    with pytest.raises(ValueError, match="unknown model 'resnet9000'"):
        get_preset("resnet9000")


def test_names_are_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        register_model("simple3d", "again")(lambda num_classes: None)


class _Probe(nn.Module):
    def __init__(self, hidden: int, num_classes: int):
        super().__init__()
        self.hidden = hidden
        self.fc = nn.Linear(hidden, num_classes)


def test_your_own_model_is_built_with_its_options_and_preset(scratch_registry):
    preset = ClipSpec(num_frames=4, crop_size=64, min_scale=64, max_scale=80, eval_resize=64)

    @register_model("tiny_linear", "a linear probe on the mean pixel", preset=preset, head="fc")
    def tiny_linear(num_classes: int, hidden: int = 2) -> nn.Module:
        return _Probe(hidden, num_classes)

    model = build_model("tiny_linear", num_classes=5, hidden=3)
    assert isinstance(model, _Probe) and model.fc.out_features == 5 and model.hidden == 3
    assert get_preset("tiny_linear") == preset and describe_model("tiny_linear") == "a linear probe on the mean pixel"
    assert model_entry("tiny_linear").head == "fc" and "tiny_linear" in list_models()


def test_a_builder_named_by_a_string_is_imported_only_when_built(scratch_registry, tmp_path, monkeypatch):
    (tmp_path / "my_models_for_vidcls.py").write_text(
        "from torch import nn\n\ndef build(num_classes, width=4):\n    return nn.Linear(width, num_classes)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    add_model(ModelCard("lazy_linear", "imported on first use", "my_models_for_vidcls:build"))
    assert "my_models_for_vidcls" not in sys.modules  # registering and reading the card import nothing
    assert get_preset("lazy_linear") is None
    model = build_model("lazy_linear", num_classes=3, width=6)
    assert isinstance(model, nn.Linear) and (model.in_features, model.out_features) == (6, 3)
    monkeypatch.delitem(sys.modules, "my_models_for_vidcls")


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_your_own_network_by_import_path(monkeypatch):
    """examples/my_network.py as the README shows it: no registration, only its import path."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    network = build_model("my_network:build_net", 5, width=8)
    assert network(torch.randn(2, 3, 4, 32, 32)).shape == (2, 5)
    card = model_entry("my_network:build_net")
    assert card.head == "classifier" and isinstance(network.get_submodule(card.head), nn.Linear)
    assert get_preset("my_network:build_net") is None  # no preset: the ClipSpec defaults
    freeze_all_but_head(network, "my_network:build_net")
    assert [name for name, p in network.named_parameters() if p.requires_grad] == ["classifier.weight", "classifier.bias"]


@pytest.mark.parametrize(("reference", "reason"), [
    ("no_such_package.nets:build", "model 'no_such_package.nets:build': no module 'no_such_package'"),
    ("my_network:build_network", "module my_network has no 'build_network'"),
    ("my_network:__doc__", "__doc__ is a str, not a function"),
    ("my_network:", "give a registered name or package.module:function"),
])
def test_a_bad_import_path_is_one_line_saying_why(monkeypatch, reference, reason):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    with pytest.raises(VidclsError, match=re.escape(reason)) as error:
        build_model(reference, 5)
    assert "\n" not in str(error.value)


def test_published_classes_are_the_libraries_own():
    assert published_classes("r3d_18") == list(video.R3D_18_Weights.KINETICS400_V1.meta["categories"])
    assert published_classes("mvit_v2_s") == list(video.MViT_V2_S_Weights.KINETICS400_V1.meta["categories"])
    assert published_classes("x3d_s") is None  # PyTorchVideo's order is in no installed package: not claimed
    assert published_classes("simple3d") is None
