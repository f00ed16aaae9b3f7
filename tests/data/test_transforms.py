import pytest
import torch
from torchvision.transforms import v2

from vidcls.clip import KINETICS_MEAN, KINETICS_STD, ClipSpec, resized_size
from vidcls.data.transforms import (
    CubeErasing,
    EvalPreset,
    MultiViewPreset,
    Normalise,
    TrainPreset,
    eval_transform,
    multi_view_transform,
    rand_augment,
    train_transform,
)


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


def test_multiview_crops_left_centre_right_of_the_long_side():
    width = torch.arange(340, dtype=torch.float32).view(1, 1, 1, 340).expand(2, 3, 256, 340)
    frames = (width / 340 * 255).to(torch.uint8)
    views = MultiViewPreset(crop_size=224, resize_size=256, num_crops=3, mean=(0, 0, 0), std=(1, 1, 1))(frames)
    assert views.shape == (3, 3, 2, 224, 224)
    left_edges = views[:, 0, 0, 0, 0]
    assert left_edges[0] < 0.01 and left_edges[1] == pytest.approx(58 / 340, abs=0.01)
    assert views[2, 0, 0, 0, -1] > 0.99
    centre = MultiViewPreset(crop_size=224, resize_size=256, num_crops=1)(frames)[0]
    assert torch.allclose(centre, EvalPreset(crop_size=224, resize_size=256)(frames))


# The train preset crops before it resizes; these check it is the tutorial's augmentation all the same.


def resize_then_crop(frames, hflip_prob=0.5):
    """The tutorial's order in torchvision: scale the short side, crop, flip, then normalise."""
    reference = v2.Compose([
        v2.RandomResize(256, 321, antialias=True), v2.RandomCrop(224),
        v2.RandomHorizontalFlip(hflip_prob), v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(list(KINETICS_MEAN), list(KINETICS_STD)),
    ])
    return reference(frames).permute(1, 0, 2, 3)


def smooth_clip(t, h, w):
    """Slowly varying colours: interpolation rounding moves values by a level or two, not more."""
    y = torch.arange(h).view(1, 1, h, 1).float()
    x = torch.arange(w).view(1, 1, 1, w).float()
    c = torch.arange(3).view(1, 3, 1, 1).float()
    time = torch.arange(t).view(t, 1, 1, 1).float()
    return (128 + 60 * torch.sin(x / 17 + c + time) + 60 * torch.cos(y / 23 - c)).clamp(0, 255).to(torch.uint8)


@pytest.mark.parametrize("size", [(256, 340), (240, 320), (320, 240), (720, 1280)])
def test_same_seed_same_augmentation_as_resize_then_crop(size):
    frames = smooth_clip(4, *size)
    level = 1 / (255 * 0.225)  # one uint8 level, normalised
    for seed in range(8):
        torch.manual_seed(seed)
        ours = TrainPreset()(frames)
        torch.manual_seed(seed)
        reference = resize_then_crop(frames)
        assert ours.shape == reference.shape == (3, 4, 224, 224)
        difference = (ours - reference).abs()
        assert difference.mean() < 2 * level and difference.max() < 8 * level, seed  # a flip or shift would be >> this


def test_crop_position_matches_the_scaled_frame():
    ramp = (torch.arange(340) * 255 // 339).to(torch.uint8).view(1, 1, 1, 340).expand(2, 3, 256, 340)
    column = 255 / 339 / (255 * 0.225)  # one source column of the ramp, normalised
    for seed in range(8):
        torch.manual_seed(seed)
        ours = TrainPreset(hflip_prob=0.0)(ramp)[0, 0, 0]
        torch.manual_seed(seed)
        reference = resize_then_crop(ramp, hflip_prob=0.0)[0, 0, 0]
        for x in (0, 111, 223):  # the crop's left edge, centre and right edge show the same source column
            assert abs(float(ours[x] - reference[x])) < 1.5 * column, (seed, x)


def test_train_values_stay_in_the_normalised_range():
    out = TrainPreset()(clip(8, 256, 340))
    assert out.min() >= (0 - 0.45) / 0.225 - 1e-5 and out.max() <= (1 - 0.45) / 0.225 + 1e-5


def test_normalise_is_torchvision_normalise_in_the_model_layout():
    frames = clip(4, 32, 48)
    ours = Normalise((0.4, 0.5, 0.6), (0.2, 0.25, 0.3))(frames)
    reference = v2.Normalize([0.4, 0.5, 0.6], [0.2, 0.25, 0.3])(v2.ToDtype(torch.float32, scale=True)(frames))
    assert ours.is_contiguous() and torch.allclose(ours, reference.permute(1, 0, 2, 3), atol=1e-5)


def test_normalise_keeps_leading_dimensions_and_gives_each_clip_what_it_gives_it_alone():
    clips = torch.stack([clip(4, 32, 48) // (i + 1) for i in range(3)]).unsqueeze(1)  # 3 different clips × 1 crop × T×C×H×W
    normalise = Normalise((0.4, 0.5, 0.6), (0.2, 0.25, 0.3))
    batch = normalise(clips)
    assert batch.shape == (3, 1, 3, 4, 32, 48) and batch.is_contiguous()
    assert all(torch.equal(batch[i, 0], normalise(clips[i, 0])) for i in range(3))


def test_multi_view_crops_are_torchvisions_resize_and_centre_crop_in_uint8():
    frames = clip(4, 48, 64)
    (crop,) = MultiViewPreset(crop_size=32, resize_size=40, num_crops=1, rounding="torchvision").crops(frames)
    theirs = v2.CenterCrop(32)(v2.Resize(40, antialias=True)(frames))
    assert crop.dtype == torch.uint8 and torch.equal(crop, theirs)


def test_presets_are_built_from_every_setting_of_the_clip():
    clip = ClipSpec(crop_size=32, min_scale=40, max_scale=40, hflip_prob=0.0, eval_resize=40, mean=(0.5,) * 3,
                    std=(0.25,) * 3, test_crops=3)
    white = torch.full((4, 3, 48, 64), 255, dtype=torch.uint8)
    for preset, shape in ((train_transform(clip), (3, 4, 32, 32)), (eval_transform(clip), (3, 4, 32, 32)),
                          (multi_view_transform(clip), (3, 3, 4, 32, 32))):
        out = preset(white)
        assert out.shape == shape and torch.allclose(out, torch.full_like(out, (1 - 0.5) / 0.25)), type(preset)
    ramp = (torch.arange(64) * 4).to(torch.uint8).view(1, 1, 1, 64).expand(4, 3, 48, 64)
    views = multi_view_transform(clip)(ramp)
    assert torch.equal(views[1], eval_transform(clip)(ramp))  # the middle crop is the eval crop
    assert views[0, 0, 0, 0, 0] < views[1, 0, 0, 0, 0] < views[2, 0, 0, 0, 0]  # left, centre, right
    torch.manual_seed(0)
    flips = [train_transform(clip)(ramp)[0, 0, 0] for _ in range(5)]
    assert all(row[0] < row[-1] for row in flips)  # hflip_prob 0: the ramp always rises left to right


def test_rand_augment_gives_every_frame_the_operations_each_frame_alone_would_get():
    frames = clip(4, 32, 40)  # frames that differ: Equalize and AutoContrast map each by its own histogram
    changed = 0
    for seed in range(24):  # 24 draws of 4 of its 14 operations, signs and all
        torch.manual_seed(seed)
        whole = rand_augment(4, 7)(frames)
        for t in range(4):
            torch.manual_seed(seed)  # the same draw, on frame t alone
            assert torch.equal(whole[t], rand_augment(4, 7)(frames[t])), (seed, t)
        changed += not torch.equal(whole, frames)
    assert changed >= 20


def test_augmented_identical_frames_stay_identical_but_for_the_erased_noise():
    frames = clip(1, 64, 80).repeat(6, 1, 1, 1)
    for seed in range(5):
        torch.manual_seed(seed)
        out = TrainPreset(crop_size=48, min_scale=56, max_scale=64, randaug_ops=4, randaug_magnitude=9)(frames)
        assert all(torch.equal(out[:, 0], out[:, t]) for t in range(6)), seed
        torch.manual_seed(seed)
        erased = TrainPreset(crop_size=48, min_scale=56, max_scale=64, randaug_ops=4, randaug_magnitude=9,
                             erase_prob=1.0)(frames)
        box = (erased != out).any(dim=0)  # T×H×W: where erasing changed a frame
        assert box.any() and all(torch.equal(box[0], box[t]) for t in range(6)), seed  # one box through all frames
        assert torch.equal(erased[:, :, ~box[0]], out[:, :, ~box[0]])  # nothing else changed
        noise = erased[:, :, box[0]]
        assert not torch.equal(noise[:, 0], noise[:, 1])  # VideoMAE's pixel mode: fresh noise on every frame


def test_cube_erasing_is_one_rectangle_of_standard_normal_noise_of_videomae_size():
    clip_ = torch.zeros(3, 8, 64, 64)
    torch.manual_seed(0)
    for _ in range(20):
        out = CubeErasing(1.0)(clip_.clone())
        rows, cols = out.ne(0).any(dim=(0, 1)).nonzero().unbind(1)
        height, width = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
        box = out[:, :, rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert box.ne(0).all()  # a filled rectangle
        assert 0.02 * 64 * 64 * 0.8 <= height * width <= 0.33 * 64 * 64 * 1.2  # 2-33 % of the frame, rounded sides
        assert abs(float(box.mean())) < 0.2 and abs(float(box.std()) - 1) < 0.2


@pytest.mark.parametrize("probability", [0.0, 0.25, 1.0])
def test_erasing_happens_with_its_probability(probability):
    torch.manual_seed(0)
    erasing = CubeErasing(probability)
    erased = sum(bool(erasing(torch.zeros(3, 2, 32, 32)).ne(0).any()) for _ in range(400))
    assert abs(erased / 400 - probability) < 0.07  # binomial sd at 0.25: 0.022


def test_the_clip_switches_train_augmentations_and_evaluation_clips_never_change():
    plain = ClipSpec(crop_size=32, min_scale=40, max_scale=48, eval_resize=40)
    augmented = ClipSpec(crop_size=32, min_scale=40, max_scale=48, eval_resize=40, randaug_ops=4, randaug_magnitude=7,
                         erase_prob=0.25, test_crops=3)
    preset = train_transform(augmented)
    assert (preset.rand_augment.num_ops, preset.rand_augment.magnitude, preset.erasing.p) == (4, 7, 0.25)
    assert train_transform(plain).rand_augment is None and train_transform(plain).erasing is None
    frames = clip(4, 48, 64)
    for seed in range(5):
        torch.manual_seed(seed)
        assert torch.equal(eval_transform(augmented)(frames), eval_transform(plain)(frames))
        assert torch.equal(multi_view_transform(augmented)(frames), multi_view_transform(ClipSpec(
            crop_size=32, min_scale=40, max_scale=48, eval_resize=40, test_crops=3))(frames))


# Evaluation rounding: each family's reference library, on frame sizes where the libraries' rules differ.
# 45×59 → short side 36: 36×47; crop 33 leaves margins 3 and 14 (centre 1.5 and 7: round 2, floor 1, ceil 2).
# 22×30 → short side 22: PyTorchVideo's long side is 29 (floor(30 / 22 * 22)), torchvision's 30.
def index_frames(height, width, frames=2):
    """Frames whose pixels say where they are (row and column, mod 256): a crop shows its position."""
    rows = torch.arange(height).view(height, 1).expand(height, width)
    cols = torch.arange(width).view(1, width).expand(height, width)
    plane = torch.stack([rows, cols, rows + cols]) % 256
    return plane.to(torch.uint8).expand(frames, 3, height, width).contiguous()


RAW = {"mean": (0.0, 0.0, 0.0), "std": (1 / 255,) * 3}  # normalised values are the uint8 values


def test_torchvision_rounding_is_resize_then_center_crop():
    for height, width in ((45, 59), (59, 45), (22, 30)):
        frames = smooth_clip(2, height, width)
        reference = v2.Compose([v2.Resize(36, antialias=True), v2.CenterCrop(33)])(frames)
        ours = EvalPreset(crop_size=33, resize_size=36, rounding="torchvision", **RAW)(frames)
        assert torch.equal(ours.round().to(torch.uint8), reference.permute(1, 0, 2, 3))
        views = MultiViewPreset(crop_size=33, resize_size=36, num_crops=3, rounding="torchvision", **RAW)(frames)
        assert torch.equal(views[1], ours)  # the middle view is the centre crop


@pytest.mark.parametrize(("height", "width"), [(38, 42), (42, 38), (38, 38)])  # margins 5 and 9: 2.5, 4.5
def test_pytorchvideo_rounding_is_its_uniform_crop(pytorchvideo_functional, height, width):
    frames = index_frames(height, width)
    theirs = frames.permute(1, 0, 2, 3).float()  # C×T×H×W, as PyTorchVideo takes it
    views = MultiViewPreset(crop_size=33, resize_size=min(height, width), num_crops=3, rounding="pytorchvideo", **RAW)
    ours = views(frames)
    for index in range(3):
        assert torch.equal(ours[index], pytorchvideo_functional.uniform_crop(theirs, 33, index)), index
    centre = EvalPreset(crop_size=33, resize_size=min(height, width), rounding="pytorchvideo", **RAW)(frames)
    assert torch.equal(centre, pytorchvideo_functional.uniform_crop(theirs, 33, 1))
    other = EvalPreset(crop_size=33, resize_size=min(height, width), rounding="torchvision", **RAW)(frames)
    assert not torch.equal(centre, other)  # these sizes tell the rules apart


@pytest.mark.parametrize(("height", "width"), [(22, 30), (30, 22), (104, 120), (45, 59)])
def test_pytorchvideo_rounding_resizes_to_its_short_side_scale_size(pytorchvideo_functional, height, width):
    short_side = {104: 182}.get(min(height, width), 22)
    theirs = pytorchvideo_functional.short_side_scale(torch.zeros(3, 1, height, width), short_side).shape[-2:]
    assert resized_size(height, width, short_side, "pytorchvideo") == tuple(theirs)
    views = MultiViewPreset(crop_size=short_side, resize_size=short_side, num_crops=3, rounding="pytorchvideo", **RAW)
    assert views(smooth_clip(1, height, width)).shape[-2:] == (short_side, short_side)
    if (height, width) in ((22, 30), (104, 120)):  # where torchvision's long side is a pixel longer
        assert resized_size(height, width, short_side, "torchvision") != tuple(theirs)


# A square resize (VideoPrism's processor, LLaVA-OneVision's): the whole frame to eval_resize², aspect not kept, bicubic.
@pytest.mark.parametrize(("height", "width"), [(45, 59), (59, 45), (240, 320), (20, 30)])
def test_square_resize_is_llava_onevisions_video_processor(height, width):
    """Max difference measured 2.4e-7 (float rounding); a bilinear or short-side clip is 0.1 to 3.8 away."""
    transformers = pytest.importorskip("transformers")
    processor = transformers.LlavaOnevisionVideoProcessor(size={"height": 36, "width": 36})  # CLIP statistics, bicubic
    frames = clip(4, height, width)
    theirs = processor(frames, return_tensors="pt")["pixel_values_videos"][0].transpose(0, 1)
    square = ClipSpec(crop_size=36, min_scale=36, max_scale=36, eval_resize=36, mean=processor.image_mean,
                      std=processor.image_std, eval_rounding="transformers", eval_resize_mode="square",
                      interpolation="bicubic", test_crops=3)
    ours = eval_transform(square)(frames)
    assert ours.shape == theirs.shape == (3, 4, 36, 36)
    assert (ours - theirs).abs().max() < 1e-5
    assert all((view - theirs).abs().max() < 1e-5 for view in multi_view_transform(square)(frames))  # 3 whole frames
    for other in ({"interpolation": "bilinear"}, {"eval_resize_mode": "short_side"}):
        assert (eval_transform(square.with_given(other))(frames) - theirs).abs().max() > 0.05, other


def test_square_resize_then_crops_along_the_width_as_torchvision_would():
    frames = index_frames(45, 59)
    reference = v2.Compose([v2.Resize([40, 40], v2.InterpolationMode.BICUBIC, antialias=True), v2.CenterCrop(32)])(frames)
    ours = EvalPreset(crop_size=32, resize_size=40, resize_mode="square", interpolation="bicubic", **RAW)(frames)
    assert torch.equal(ours.round().to(torch.uint8), reference.permute(1, 0, 2, 3))
    views = MultiViewPreset(crop_size=32, resize_size=40, num_crops=3, resize_mode="square", interpolation="bicubic",
                            **RAW)(frames)
    assert torch.equal(views[1], ours)
    assert views[0, 1, 0, 0, 0] < views[1, 1, 0, 0, 0] < views[2, 1, 0, 0, 0]  # the column channel: left, centre, right


def test_training_resizes_with_the_clips_interpolation():
    frames = clip(2, 48, 64)
    presets = {name: TrainPreset(crop_size=32, min_scale=40, max_scale=40, hflip_prob=0.0, interpolation=name, **RAW)
               for name in ("bilinear", "bicubic")}
    torch.manual_seed(0)
    top, left, height, width = presets["bicubic"].crop_box(48, 64)
    reference = v2.functional.resized_crop(frames, top, left, height, width, [32, 32], v2.InterpolationMode.BICUBIC,
                                           antialias=True)
    out = {}
    for name, preset in presets.items():
        torch.manual_seed(0)
        out[name] = preset(frames).round().to(torch.uint8)
    assert torch.equal(out["bicubic"], reference.permute(1, 0, 2, 3))
    assert not torch.equal(out["bilinear"], out["bicubic"])
