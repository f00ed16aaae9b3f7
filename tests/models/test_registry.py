"""The model registry: names, lookup errors, your own models, builders imported on first use."""

import sys

import pytest
from torch import nn

from vidcls.clip import ClipSpec
from vidcls.models import build_model, describe_model, get_preset, list_models, model_entry, register_model, registry
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
