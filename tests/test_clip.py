"""The clip contract: precedence (given > model's > defaults), stored form, and one-line validation."""

import json

import pytest

from vidcls.clip import ClipSpec, resolve_clip
from vidcls.errors import VidclsError

X3D_LIKE = ClipSpec(num_frames=13, clip_duration=2.6, crop_size=160, min_scale=182, max_scale=228, eval_resize=182)


def test_a_given_value_wins_even_when_it_equals_the_default():
    given = {"num_frames": 8, "crop_size": 224, "min_scale": 256, "max_scale": 320, "eval_resize": 256}  # the defaults
    clip = X3D_LIKE.with_given(given)
    assert (clip.num_frames, clip.crop_size, clip.min_scale, clip.max_scale, clip.eval_resize) == (8, 224, 256, 320, 256)
    assert clip.clip_duration == 2.6  # not given: the spec's own


def test_none_means_not_given():
    assert X3D_LIKE.with_given({name: None for name in ClipSpec.field_names()}) == X3D_LIKE


def test_resolve_clip_is_given_over_preset_over_defaults():
    assert resolve_clip(None, {}) == ClipSpec()
    assert resolve_clip(None, {"num_frames": 4, "crop_size": None}) == ClipSpec(num_frames=4)
    assert resolve_clip(X3D_LIKE, {}) == X3D_LIKE
    resolved = resolve_clip(X3D_LIKE, {"num_frames": 8, "hflip_prob": 0.0, "mean": [0.5, 0.5, 0.5]})
    assert resolved == ClipSpec(num_frames=8, clip_duration=2.6, crop_size=160, min_scale=182, max_scale=228,
                                hflip_prob=0.0, eval_resize=182, mean=(0.5, 0.5, 0.5))


def test_stored_form_round_trips_through_json():
    clip = ClipSpec(num_frames=4, mean=[0.4, 0.5, 0.6], std=(1, 1, 1))
    assert clip.mean == (0.4, 0.5, 0.6) and clip.std == (1.0, 1.0, 1.0)  # lists from YAML/JSON become tuples
    stored = json.loads(json.dumps(clip.to_dict()))
    assert stored["mean"] == [0.4, 0.5, 0.6]
    assert ClipSpec.from_dict(stored) == clip and hash(ClipSpec.from_dict(stored)) == hash(clip)


def test_from_dict_takes_the_defaults_for_missing_keys():
    assert ClipSpec.from_dict({"num_frames": 16}) == ClipSpec(num_frames=16)


def test_from_dict_rejects_unknown_keys_naming_them_and_the_known_ones():
    with pytest.raises(VidclsError) as error:
        ClipSpec.from_dict({"num_frames": 16, "sampling_rate": 8, "slowfast_alpha": 4})
    message = str(error.value)
    assert message.startswith("clip settings: unknown sampling_rate, slowfast_alpha; known: num_frames, clip_duration,")
    assert "\n" not in message


def test_at_sampling_rate_is_frames_times_rate_at_the_source_fps():
    assert ClipSpec.at_sampling_rate(13, 6).clip_duration == pytest.approx(2.6)  # 30 fps
    assert ClipSpec.at_sampling_rate(16, 2, fps=15).clip_duration == pytest.approx(32 / 15)
    assert ClipSpec.at_sampling_rate(8, 8, crop_size=160).crop_size == 160


@pytest.mark.parametrize(
    "settings, problem",
    [
        ({"num_frames": 0}, "num_frames must be positive"),
        ({"clip_duration": -1.0}, "clip_duration must be positive"),
        ({"test_crops": 0}, "test_crops must be positive"),
        ({"eval_rounding": "opencv"}, "eval_rounding 'opencv' is not one of torchvision, transformers, pytorchvideo"),
        ({"crop_size": 224, "min_scale": 200}, "min_scale 200 is below crop_size 224: the training crop would not fit"),
        ({"min_scale": 300, "max_scale": 280}, "max_scale 280 is below min_scale 300"),
        ({"eval_resize": 200}, "eval_resize 200 is below crop_size 224: the eval crop would not fit"),
        ({"hflip_prob": 1.5}, "hflip_prob 1.5 is not a probability"),
        ({"mean": (0.5, 0.5)}, "mean and std need three values each, std positive"),
        ({"std": (0.2, 0.0, 0.2)}, "mean and std need three values each, std positive"),
        ({"sampling": "tsn"}, "sampling 'tsn' is not one of dense, segment"),
        ({"erase_prob": -0.1}, "erase_prob -0.1 is not a probability"),
        ({"randaug_ops": -1}, "randaug_ops -1 is negative"),
        ({"randaug_magnitude": 11}, "randaug_magnitude 11 is outside RandAugment's 0-10"),
        ({"eval_resize_mode": "stretch"}, "eval_resize_mode 'stretch' is not one of short_side, square"),
        ({"interpolation": "lanczos"}, "interpolation 'lanczos' is not one of bilinear, bicubic"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(settings, problem):
    with pytest.raises(VidclsError) as error:
        ClipSpec(**settings)
    assert str(error.value) == f"clip settings: {problem}"


def test_every_problem_is_named_in_the_same_line():
    with pytest.raises(VidclsError) as error:
        X3D_LIKE.with_given({"crop_size": 224, "num_frames": 0})
    assert str(error.value) == ("clip settings: num_frames must be positive; "
                                "min_scale 182 is below crop_size 224: the training crop would not fit; "
                                "eval_resize 182 is below crop_size 224: the eval crop would not fit")


def test_untyped_sizes_follow_a_typed_one_that_the_preset_cannot_hold_in_its_proportion():
    preset = ClipSpec(crop_size=160, min_scale=182, max_scale=228, eval_resize=182)  # X3D-S's sizes
    assert resolve_clip(preset, {"crop_size": 150}) == ClipSpec(crop_size=150, min_scale=182, max_scale=228,
                                                                eval_resize=182)  # fits: nothing moves
    scaled = resolve_clip(preset, {"crop_size": 320, "max_scale": 400})
    assert scaled == ClipSpec(crop_size=320, min_scale=364, max_scale=400, eval_resize=364)  # x2, the typed max kept
    small = resolve_clip(preset, {"eval_resize": 91})  # no crop typed: the typed eval size leads, x0.5
    assert small == ClipSpec(crop_size=80, min_scale=91, max_scale=114, eval_resize=91)


def test_typed_sizes_that_cannot_hold_each_other_are_never_changed_but_named():
    with pytest.raises(VidclsError, match=r"min_scale 100 is below crop_size 224.*\(given: crop_size 224, min_scale 100\)$"):
        resolve_clip(ClipSpec(), {"crop_size": 224, "min_scale": 100})


def test_augmentations_are_off_by_default_and_stored_with_the_clip():
    assert (ClipSpec().randaug_ops, ClipSpec().erase_prob) == (0, 0.0)
    recipe = ClipSpec(randaug_ops=4, randaug_magnitude=7, erase_prob=0.25)
    assert ClipSpec.from_dict(json.loads(json.dumps(recipe.to_dict()))) == recipe
    assert ClipSpec.from_dict({"num_frames": 8}).randaug_ops == 0  # a checkpoint from before: no augmentation


def test_segment_sampling_is_stored_and_described():
    clip = ClipSpec(sampling="segment")
    assert ClipSpec.from_dict(clip.to_dict()) == clip and ClipSpec.from_dict({}).sampling == "dense"
    assert "equal parts" in clip.eval_preprocessing()["frame_times"]
    assert "clip_duration" not in clip.eval_preprocessing() and "clip_duration" in ClipSpec().eval_preprocessing()


def test_a_square_resize_and_its_filter_are_stored_and_described():
    clip = ClipSpec(crop_size=288, min_scale=329, max_scale=411, eval_resize=288, eval_resize_mode="square",
                    interpolation="bicubic")
    assert ClipSpec.from_dict(clip.to_dict()) == clip
    assert (ClipSpec.from_dict({}).eval_resize_mode, ClipSpec.from_dict({}).interpolation) == ("short_side", "bilinear")
    described = clip.eval_preprocessing()
    assert described["resize_square"] == 288 and "not kept" in described["aspect_ratio"]
    assert "resize_short_side" not in described and described["interpolation"].startswith("bicubic")
    assert ClipSpec().eval_preprocessing()["resize_short_side"] == 256


def test_a_typed_scale_moves_the_other_scales_but_not_the_networks_input_size():
    r3d_18 = ClipSpec(crop_size=112, min_scale=128, max_scale=128, eval_resize=128)  # torchvision's fixed 128 resize
    assert resolve_clip(r3d_18, {"min_scale": 160}) == ClipSpec(crop_size=112, min_scale=160, max_scale=160,
                                                                eval_resize=160)
