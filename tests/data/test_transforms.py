import pytest
import torch

from vidcls.data.transforms import EvalPreset, TrainPreset


def clip(t=8, h=256, w=340):
    return torch.randint(0, 256, (t, 3, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("size", [(256, 340), (240, 320), (480, 640), (320, 240)])
def test_train_and_eval_output_fixed_shapes_for_any_input_size(size):
    frames = clip(8, *size)
    assert TrainPreset()(frames).shape == (3, 8, 224, 224)
    assert EvalPreset()(frames).shape == (3, 8, 224, 224)


def test_values_are_normalised_floats():
    out = EvalPreset()(torch.full((4, 3, 256, 256), 255, dtype=torch.uint8))
    assert out.dtype == torch.float32
    assert torch.allclose(out, torch.full_like(out, (1.0 - 0.45) / 0.225))
    zeros = EvalPreset()(torch.zeros((4, 3, 256, 256), dtype=torch.uint8))
    assert torch.allclose(zeros, torch.full_like(zeros, -0.45 / 0.225))


def test_train_augmentation_is_random_but_seeded():
    frames = clip()
    torch.manual_seed(1)
    a = TrainPreset()(frames)
    torch.manual_seed(1)
    b = TrainPreset()(frames)
    c = TrainPreset()(frames)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_eval_is_deterministic_centre_crop():
    frames = clip()
    assert torch.equal(EvalPreset()(frames), EvalPreset()(frames))


def test_same_crop_and_flip_for_every_frame():
    frame = clip(1)
    frames = frame.repeat(8, 1, 1, 1)
    torch.manual_seed(5)
    out = TrainPreset(hflip_prob=0.5)(frames)
    assert all(torch.equal(out[:, 0], out[:, i]) for i in range(8))


def test_flip_probability_zero_never_flips():
    frames = clip(2, 224, 224)
    preset = TrainPreset(min_scale=224, max_scale=224, hflip_prob=0.0)
    expected = EvalPreset(resize_size=224)(frames)
    for seed in range(5):
        torch.manual_seed(seed)
        assert torch.allclose(preset(frames), expected)
