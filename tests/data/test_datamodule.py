import dataclasses

import pytest
import torch

from vidcls.clip import ClipSpec, resolve_clip
from vidcls.data.datamodule import VideoDataModule, clips_as_batch_entries
from vidcls.data.decoding import DecoderSettings
from vidcls.errors import DatasetError, VidclsError
from vidcls.models import get_preset


def small(root, **kwargs):
    settings = dict(batch_size=4, num_workers=0, crop_size=32, min_scale=36, max_scale=44, eval_resize=36, num_frames=4)
    settings.update(kwargs)
    return VideoDataModule(root=str(root), **settings)


def test_batches_have_the_model_layout(synth_root):
    datamodule = small(synth_root)
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    assert batch["video"].shape == (4, 3, 4, 32, 32) and batch["video"].dtype == torch.float32
    assert batch["label"].dtype == torch.int64 and set(batch["label"].tolist()) <= set(range(4))
    val = next(iter(datamodule.val_dataloader()))
    assert val["video"].shape == (4, 3, 4, 32, 32)


def test_classes_are_sorted_folder_names_and_labels_match(synth_root, few_classes):
    datamodule = small(synth_root)
    assert datamodule.classes == sorted(few_classes)
    datamodule.setup("fit")
    for sample in datamodule.datasets["train"].samples:
        assert datamodule.classes[sample.label] == sample.path.parent.name


def test_given_classes_define_the_indices(synth_root, few_classes):
    order = list(reversed(sorted(few_classes)))
    datamodule = small(synth_root, classes=order)
    datamodule.setup("test")
    for sample in datamodule.datasets["test"].samples:
        assert order[sample.label] == sample.path.parent.name


def test_eval_clips_are_the_same_every_time(synth_root):
    datamodule = small(synth_root)
    datamodule.setup("validate")
    dataset = datamodule.datasets["val"]
    assert torch.equal(dataset[0]["video"], dataset[0]["video"])


def test_test_split_falls_back_to_val(synth_root, tmp_path):
    (tmp_path / "train").symlink_to(synth_root / "train")
    (tmp_path / "val").symlink_to(synth_root / "val")
    datamodule = small(tmp_path)
    datamodule.setup("test")
    assert len(datamodule.datasets["test"]) == len(list((synth_root / "val").rglob("*.mp4")))


def test_list_files_replace_folders(synth_root, tmp_path, few_classes):
    lines = [f"{p} {p.parent.name}" for p in sorted((synth_root / "train").rglob("*.mp4"))]
    (tmp_path / "train.txt").write_text("\n".join(lines))
    datamodule = VideoDataModule(train_list=str(tmp_path / "train.txt"), num_workers=0)
    datamodule.setup("fit")
    assert datamodule.classes == sorted(few_classes)
    assert len(datamodule.datasets["train"]) == len(lines) and "val" not in datamodule.datasets


def test_missing_root_fails_before_training(tmp_path):
    with pytest.raises(DatasetError, match=f"{tmp_path / 'nowhere' / 'train'}: no such folder"):
        small(tmp_path / "nowhere").setup("fit")


def test_val_label_unknown_to_train_is_named(synth_root, tmp_path):
    (tmp_path / "train").symlink_to(synth_root / "train")
    extra = tmp_path / "val" / "dancing"
    extra.mkdir(parents=True)
    (extra / "x.mp4").symlink_to(next((synth_root / "val" / "moving_up").iterdir()))
    with pytest.raises(DatasetError, match="unknown label 'dancing'"):
        small(tmp_path).setup("fit")


def test_repeated_clips_become_batch_entries_with_their_label(synth_root):
    datamodule = small(synth_root, clips_per_video=2)
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    assert batch["video"].shape == (8, 3, 4, 32, 32)
    assert torch.equal(batch["label"][0::2], batch["label"][1::2])
    assert torch.equal(batch["index"][0::2], batch["index"][1::2])


def test_repeated_clips_of_a_multi_label_video_keep_its_multi_hot_row():
    items = [{"video": torch.full((2, 3, 1, 2, 2), float(i)), "label": torch.tensor([1.0, 0.0, float(i)]), "index": i}
             for i in range(2)]
    batch = clips_as_batch_entries(items)
    assert batch["video"].shape == (4, 3, 1, 2, 2)
    assert batch["label"].tolist() == [[1, 0, 0], [1, 0, 0], [1, 0, 1], [1, 0, 1]] and batch["index"].tolist() == [0, 0, 1, 1]


def test_decoder_flags_default_to_the_decoder_settings_and_reach_every_dataset(synth_root):
    defaults = VideoDataModule().hparams
    assert {name: defaults[name] for name in dataclasses.asdict(DecoderSettings())} == dataclasses.asdict(DecoderSettings())
    datamodule = small(synth_root, decoder="torchcodec", decoder_threads=2, seek_mode="exact", decode_timeout=5.0)
    datamodule.setup("fit")
    datamodule.setup("test")
    given = DecoderSettings(decoder="torchcodec", seek_mode="exact", decoder_threads=2, decode_timeout=5.0)
    assert {split: dataset.decoding for split, dataset in datamodule.datasets.items()} == dict.fromkeys(
        ("train", "val", "test"), given)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown without CUDA")
def test_gpu_decoding_without_cuda_is_one_clear_error(synth_root):
    with pytest.raises(VidclsError, match="CUDA is not available"):
        small(synth_root, decode_device="cuda").setup("fit")


# --- the clip: given values, over the model's clip, over ClipSpec's defaults ---


def test_clip_takes_given_values_over_the_model_clip_over_the_defaults():
    assert VideoDataModule().clip == ClipSpec()  # nothing given, no model: the defaults
    x3d_s = get_preset("x3d_s")
    datamodule = VideoDataModule(num_frames=8, hflip_prob=0.0)  # 8 is ClipSpec's default: given, it still wins
    assert datamodule.clip == ClipSpec(num_frames=8, hflip_prob=0.0)
    assert resolve_clip(x3d_s, datamodule.given_clip) == ClipSpec(
        num_frames=8, clip_duration=x3d_s.clip_duration, crop_size=160, min_scale=182, max_scale=228, hflip_prob=0.0,
        eval_resize=182, eval_rounding="pytorchvideo")


def test_a_given_resize_mode_and_filter_win_over_a_square_bicubic_model_clip():
    videoprism_like = ClipSpec(crop_size=32, min_scale=37, max_scale=46, eval_resize=32, eval_resize_mode="square",
                               interpolation="bicubic")
    given = VideoDataModule(interpolation="bilinear").given_clip
    assert resolve_clip(videoprism_like, given) == ClipSpec(crop_size=32, min_scale=37, max_scale=46, eval_resize=32,
                                                            eval_resize_mode="square", interpolation="bilinear")
    assert VideoDataModule(eval_resize_mode="square").clip.eval_resize_mode == "square"


def test_loaders_are_built_from_the_resolved_clip(synth_root):
    datamodule = VideoDataModule(root=str(synth_root), batch_size=2, num_workers=0, num_frames=3)
    model_clip = ClipSpec(num_frames=6, clip_duration=1.0, crop_size=16, min_scale=16, max_scale=20, eval_resize=20,
                          test_clips=2, test_crops=3)
    datamodule.use_run(datamodule.classes, resolve_clip(model_clip, datamodule.given_clip))
    datamodule.setup("fit")
    datamodule.setup("test")
    assert next(iter(datamodule.train_dataloader()))["video"].shape == (2, 3, 3, 16, 16)  # num_frames given: 3
    assert next(iter(datamodule.val_dataloader()))["video"].shape == (2, 3, 3, 16, 16)
    assert next(iter(datamodule.test_dataloader()))["video"].shape == (2, 6, 3, 3, 16, 16)  # 2 clips x 3 crops


def test_a_given_value_that_does_not_fit_the_model_clip_is_one_line_naming_it():
    datamodule = VideoDataModule(crop_size=224)  # x3d_s: 160² crops; its untyped sizes follow, x1.4
    assert resolve_clip(get_preset("x3d_s"), datamodule.given_clip).min_scale == 255
    datamodule = VideoDataModule(crop_size=224, eval_resize=200)  # both typed: they cannot work together
    with pytest.raises(VidclsError, match="eval_resize 200 is below crop_size 224") as error:
        resolve_clip(get_preset("x3d_s"), datamodule.given_clip)
    assert "\n" not in str(error.value) and str(error.value).endswith("(given: crop_size 224, eval_resize 200)")


def published(published_dataset, name, **kwargs):
    videos, annotations = published_dataset(name)
    settings = dict(batch_size=3, num_workers=0, crop_size=32, min_scale=32, max_scale=36, eval_resize=32, num_frames=4)
    return VideoDataModule(root=str(videos), annotations=str(annotations), dataset=name, **settings | kwargs)


@pytest.mark.parametrize("name, classes, train, test", [
    ("ucf101", ["ApplyEyeMakeup", "BandMarching", "HandstandPushups"], 6, 3),
    ("hmdb51", ["brush_hair", "clap", "fall_floor"], 3, 5),
    ("ssv2", ["Approaching something with your camera", "Holding something next to something",
              "Pushing something from left to right"], 6, 3),
    ("diving48", ["Back 15som 05Twis FREE", "Back 15som 15Twis FREE", "Forward 35som NoTwis PIKE"], 6, 3),
])
def test_published_sets_give_their_classes_and_splits(published_dataset, name, classes, train, test):
    datamodule = published(published_dataset, name, split=2 if name in ("ucf101", "hmdb51") else 1)
    assert datamodule.classes == classes
    datamodule.setup("fit")
    datamodule.setup("test")
    assert len(datamodule.datasets["train"]) == train and len(datamodule.datasets["test"]) == test
    assert datamodule.datasets["val"].samples == datamodule.datasets["test"].samples  # no val split published
    batch = next(iter(datamodule.train_dataloader()))
    assert batch["video"].shape == (3, 3, 4, 32, 32)


def test_a_val_list_replaces_the_published_val_split(published_dataset, tmp_path):
    videos, _ = published_dataset("ucf101")
    (tmp_path / "val.txt").write_text(f"{videos}/BandMarching/v_BandMarching_g03_c01.avi BandMarching\n")
    datamodule = published(published_dataset, "ucf101", val_list=str(tmp_path / "val.txt"))
    datamodule.setup("validate")
    assert [(s.path.name, s.label) for s in datamodule.datasets["val"].samples] == [("v_BandMarching_g03_c01.avi", 1)]


def test_ucf101s_own_list_without_its_classes_is_one_line_naming_the_cure(published_dataset, tmp_path):
    videos, lists = published_dataset("ucf101")
    listed = tmp_path / "trainlist01.txt"
    lines = (lists / "trainlist01.txt").read_bytes().splitlines(keepends=True)  # the published list, where its videos are
    listed.write_bytes(b"".join(f"{videos}/".encode() + line for line in lines))
    with pytest.raises(DatasetError, match=f"^{listed}: labels are class indices, but index 0 has no video") as caught:
        VideoDataModule(train_list=str(listed), num_workers=0).setup("fit")
    assert "--data.dataset ucf101" in str(caught.value) and "\n" not in str(caught.value)
    tests = tmp_path / "testlist01.txt"
    tests.write_bytes(b"".join(f"{videos}/".encode() + line for line in (lists / "testlist01.txt").read_bytes().splitlines(True)))
    with pytest.raises(DatasetError, match=f"^{tests}:1: expected a path and a label .*--data.dataset ucf101"):
        VideoDataModule(train_list=str(listed), val_list=str(tests), classes=str(lists / "classInd.txt"),
                        num_workers=0).setup("fit")
    datamodule = VideoDataModule(train_list=str(listed), classes=str(lists / "classInd.txt"), num_workers=0)
    datamodule.setup("fit")
    assert datamodule.classes == ["ApplyEyeMakeup", "BandMarching", "HandstandPushups"]
    assert all(datamodule.classes[s.label] == s.path.parent.name for s in datamodule.datasets["train"].samples)


def test_segment_sampling_is_a_data_setting(published_dataset):
    datamodule = published(published_dataset, "ssv2", sampling="segment", hflip_prob=0.0)
    assert datamodule.clip.sampling == "segment"
    datamodule.setup("fit")
    assert datamodule.datasets["train"].segments and datamodule.datasets["val"].segments
