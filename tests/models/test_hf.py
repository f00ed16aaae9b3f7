"""The Hugging Face families: built from save_pretrained folders and from configurations, their clip read from the
checkpoint (and equal to what their own processors make of the same frames), head replacement, training options."""

import json
import os
import pickle
import shutil
import socket
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from vidcls.clip import resolve_clip
from vidcls.data.decoding import VideoReader
from vidcls.data.sampling import clip_frame_times
from vidcls.data.transforms import eval_transform, multi_view_transform
from vidcls.errors import VidclsError
from vidcls.models import build_model, get_preset, list_models, model_entry, published_classes
from vidcls.models.pretrained import build_network, freeze_all_but_head

transformers = pytest.importorskip("transformers")
hf = pytest.importorskip("vidcls.models.hf")
CLASSES = ["pour", "stir", "whisk"]


def test_listing_models_imports_neither_torch_nor_transformers():
    code = ("import sys, vidcls.models as m; names = m.list_models(); "
            "print(all(n in names for n in ('videomae', 'vjepa2', 'timesformer', 'vivit')), "
            "'torch' in sys.modules, 'transformers' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "False", "False"]


def test_without_the_extra_a_hub_model_stops_with_one_line_naming_it(synth_root, tmp_path):
    # torchmetrics imports transformers whenever it is installed: import it first, then make transformers unimportable
    code = ("import sys, torchmetrics; sys.modules['transformers'] = None; from vidcls.cli import main; "
            f"main(['fit', '--model.model', 'videomae', '--data.root', {str(synth_root)!r}, "
            f"'--trainer.default_root_dir', {str(tmp_path)!r}, '--trainer.accelerator', 'cpu'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "vidcls: error: the Hugging Face models need transformers: pip install 'vidcls[hf]'")


def test_eval_clip_equals_the_family_processor_on_the_same_frames(family, hub_checkpoint, synth_root):
    """vidcls's clip of a video, from the checkpoint's own config and processor config, vs transformers' processor."""
    folder = hub_checkpoint(family)
    clip = get_preset(family, str(folder), {})
    resize = 32 if family == "videoprism" else 36  # VideoPrism's processor: the whole frame to a 32 square
    assert (clip.num_frames, clip.crop_size, clip.eval_resize) == (4, 32, resize)  # the folder's config and processor
    video = next((synth_root / "val").rglob("*.mp4"))
    with VideoReader(video) as reader:  # the frames of the centre clip, T×C×H×W uint8, as vidcls decodes them
        frames = reader.frames_at(clip_frame_times(0.0, clip.clip_duration, clip.num_frames, reader.info.fps))
    ours = eval_transform(clip)(frames)  # C×T×H×W
    processed = transformers.AutoVideoProcessor.from_pretrained(folder)(frames, return_tensors="pt")
    theirs = next(iter(processed.values()))[0].transpose(0, 1)
    assert ours.shape == theirs.shape
    assert (ours - theirs).abs().max() < 1e-4  # float rounding: one uint8 level is 1/(255 std) ≈ 0.017


@pytest.mark.parametrize(("height", "width"), [(45, 59), (59, 45)])
def test_eval_crops_round_as_the_processor_where_torchvision_would_not(family, hub_checkpoint, height, width):
    """36×47 after the resize, crop 32: margins 4 and 15, centre 7.5 (the processor's floor 7, torchvision's round 8)."""
    if family == "videoprism":
        pytest.skip("VideoPrism's processor crops nothing (tested below)")
    folder = hub_checkpoint(family)
    clip = get_preset(family, str(folder), {})
    frames = torch.randint(0, 256, (4, 3, height, width), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    processed = transformers.AutoVideoProcessor.from_pretrained(folder)(frames, return_tensors="pt")
    theirs = next(iter(processed.values()))[0].transpose(0, 1)
    assert clip.eval_rounding == "transformers"
    assert (eval_transform(clip)(frames) - theirs).abs().max() < 1e-4
    views = multi_view_transform(clip.with_given({"test_crops": 3}))(frames)
    assert (views[1] - theirs).abs().max() < 1e-4
    torchvision_clip = eval_transform(clip.with_given({"eval_rounding": "torchvision"}))(frames)
    assert (torchvision_clip - theirs).abs().max() > 0.1  # a pixel off: these sizes tell the rules apart


@pytest.mark.parametrize(("height", "width"), [(45, 59), (59, 45), (240, 320)])
def test_videoprism_eval_clip_is_its_processors_whole_frame_resized_bicubic(hub_checkpoint, height, width):
    """Non-square frames, where a short-side resize and crop would differ; measured max difference 2.4e-7."""
    folder = hub_checkpoint("videoprism")
    clip = get_preset("videoprism", str(folder), {})
    assert (clip.eval_resize_mode, clip.interpolation, clip.eval_resize, clip.crop_size) == ("square", "bicubic", 32, 32)
    assert clip.mean == pytest.approx(transformers.LlavaOnevisionVideoProcessor.image_mean)  # CLIP's statistics
    frames = torch.randint(0, 256, (4, 3, height, width), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    processed = transformers.AutoVideoProcessor.from_pretrained(folder)(frames, return_tensors="pt")
    theirs = processed["pixel_values_videos"][0].transpose(0, 1)
    assert (eval_transform(clip)(frames) - theirs).abs().max() < 1e-5
    assert all((view - theirs).abs().max() < 1e-5 for view in multi_view_transform(clip.with_given({"test_crops": 3}))(frames))


def test_videoprism_logits_lose_the_extra_axis_of_its_pooling_query(tiny_hub_options):
    network = build_model("videoprism", 3, classes=CLASSES, **tiny_hub_options("videoprism")).eval()
    for batch in (1, 2):
        clips = torch.randn(batch, 3, 4, 32, 32)
        assert network.model(pixel_values_videos=clips.transpose(1, 2)).logits.shape == (batch, 1, 3)  # transformers'
        assert network(clips).shape == (batch, 3)


def test_videoprism_encoder_checkpoint_has_no_head_and_the_probe_trains_only_the_new_one(tmp_path, tiny_hub_options):
    """Its published checkpoints are VideoPrismVisionModel encoders: the pooling head and classifier are new."""
    folder = tmp_path / "encoder"
    options = tiny_hub_options("videoprism")
    encoder = transformers.VideoPrismVisionModel(transformers.VideoPrismVisionConfig(**options))
    encoder.save_pretrained(folder)
    # normalisation off, [0, 1] input, as transformers' VideoPrismProcessor asks of its video processor
    processor = transformers.LlavaOnevisionVideoProcessor(size={"height": 32, "width": 32}, do_normalize=False)
    processor.save_pretrained(folder)
    clip = get_preset("videoprism", str(folder), {})
    assert (clip.mean, clip.std) == ((0.0,) * 3, (1.0,) * 3)
    frames = torch.randint(0, 256, (4, 3, 45, 59), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    theirs = processor(frames, return_tensors="pt")["pixel_values_videos"][0].transpose(0, 1)
    assert (eval_transform(clip)(frames) - theirs).abs().max() < 1e-5
    network, _ = build_network("videoprism", CLASSES, {}, str(folder))
    own = network.model.vision_model.state_dict()
    assert all(torch.equal(value, own[key]) for key, value in encoder.state_dict().items())
    freeze_all_but_head(network, "videoprism")
    trainable = {name.split(".")[1] for name, p in network.named_parameters() if p.requires_grad}
    assert trainable == {"head", "head_layernorm", "classifier"}
    assert network(torch.randn(2, *clip.input_shape)).shape == (2, 3)


def test_videoprisms_video_text_checkpoint_is_refused_in_one_line(tmp_path):
    transformers.VideoPrismConfig().save_pretrained(tmp_path)
    with pytest.raises(VidclsError, match="is a videoprism checkpoint, not videoprism "
                                          r"\(videoprism takes videoprism_vision_model checkpoints\)"):
        build_model("videoprism", 3, classes=CLASSES, pretrained=str(tmp_path))


def test_videoprism_hub_folder_writes_its_square_bicubic_processor(tmp_path, tiny_hub_options):
    network = build_model("videoprism", 3, classes=CLASSES, **tiny_hub_options("videoprism")).eval()
    clip = get_preset("videoprism", None, tiny_hub_options("videoprism"))
    assert (clip.eval_resize_mode, clip.interpolation, clip.eval_resize) == ("square", "bicubic", 32)
    hf.save_hub_folder(network, "videoprism", clip, tmp_path / "hub")
    written = json.loads((tmp_path / "hub" / "video_preprocessor_config.json").read_text())
    assert written["size"] == {"height": 32, "width": 32} and written["resample"] == 3 and not written["do_center_crop"]
    sidecar = clip.eval_preprocessing()  # the ONNX and TorchScript exports' words for the same clip
    assert (sidecar["resize_square"], sidecar["center_crop"], sidecar["interpolation"].split(",")[0]) == (32, 32, "bicubic")
    clips = torch.randn(2, *clip.input_shape)
    with torch.no_grad():
        assert torch.allclose(hf.load_hub_folder(tmp_path / "hub")(clips), network(clips), atol=1e-5)
    cropped = clip.with_given({"eval_resize": 40})  # a square resize, then a centre crop: written and read back alike
    hf.save_hub_folder(network, "videoprism", cropped, tmp_path / "cropped")
    assert json.loads((tmp_path / "cropped" / "video_preprocessor_config.json").read_text())["crop_size"]["height"] == 32


def test_published_classes_are_the_checkpoints_id2label_in_head_order(hub_checkpoint):
    folder = hub_checkpoint("videomae")
    config = transformers.AutoConfig.from_pretrained(folder)
    assert published_classes("videomae", str(folder)) == [config.id2label[i] for i in range(config.num_labels)]
    assert published_classes("videomae") is None  # no checkpoint, no published head


def test_vivit_processor_statistics_become_a_clip_mean_and_std(hub_checkpoint):
    # ViViT's processor: x / 127.5 - 1 (to [-1, 1]), then (· - 0.5) / 0.5 with its default statistics
    clip = get_preset("vivit", str(hub_checkpoint("vivit")), {})
    assert clip.mean == pytest.approx((0.75,) * 3) and clip.std == pytest.approx((0.25,) * 3)
    videomae = get_preset("videomae", str(hub_checkpoint("videomae")), {})
    assert videomae.mean == pytest.approx((0.485, 0.456, 0.406))  # its preprocessor_config.json's ImageNet mean


def test_values_the_user_gives_win_over_the_checkpoint_clip(hub_checkpoint):
    clip = resolve_clip(get_preset("vjepa2", str(hub_checkpoint("vjepa2")), {}), {"eval_resize": 48, "crop_size": None})
    assert (clip.eval_resize, clip.crop_size, clip.num_frames) == (48, 32, 4)


def test_model_options_win_over_the_checkpoint_config(hub_checkpoint):
    clip = get_preset("videomae", str(hub_checkpoint("videomae")), {"num_frames": 8})
    network, config = build_network("videomae", CLASSES, {"num_frames": 8}, str(hub_checkpoint("videomae")))
    assert clip.num_frames == 8 and config["num_frames"] == 8
    assert network(torch.randn(1, 3, 8, 32, 32)).shape == (1, 3)


def test_pretrained_folder_loads_the_backbone_and_a_head_for_the_users_classes(family, hub_checkpoint):
    folder = hub_checkpoint(family)
    reference = getattr(transformers, hf.FAMILIES[family].model).from_pretrained(folder).state_dict()  # 5 classes
    network, config = build_network(family, CLASSES, {}, str(folder))
    own = {key.removeprefix("model."): value for key, value in network.state_dict().items()}
    backbone = [key for key in reference if not key.startswith("classifier.")]
    assert backbone and all(torch.equal(reference[key], own[key]) for key in backbone)
    assert own["classifier.weight"].shape[0] == 3
    assert network.model.config.id2label == dict(enumerate(CLASSES)) and config["label2id"] == {"pour": 0, "stir": 1, "whisk": 2}
    clip = get_preset(family, str(folder), {})
    assert network(torch.randn(2, *clip.input_shape)).shape == (2, 3)


def test_a_head_for_as_many_other_classes_is_replaced_and_for_the_same_ones_kept(hub_checkpoint):
    folder = hub_checkpoint("timesformer")
    saved = load_file(folder / "model.safetensors")["classifier.weight"]
    kinetics = ["abseiling", "archery", "bowling", "juggling", "yawning"]
    same, _ = build_network("timesformer", kinetics, {}, str(folder))
    other, _ = build_network("timesformer", [f"my_{label}" for label in kinetics], {}, str(folder))
    assert torch.equal(same.model.classifier.weight, saved)
    assert not torch.equal(other.model.classifier.weight, saved)


def test_without_pretrained_the_network_is_built_from_its_options(family, tiny_hub_options):
    options = tiny_hub_options(family)
    network = build_model(family, 3, classes=CLASSES, **options)
    config = network.model.config
    assert all(getattr(config, key) == (tuple(value) if isinstance(value, list) and isinstance(getattr(config, key), tuple)
                                        else value) for key, value in options.items())
    clip = get_preset(family, None, options)
    assert clip.num_frames == 4 and clip.crop_size == 32
    assert network(torch.randn(1, *clip.input_shape)).shape == (1, 3)


def test_a_recorded_config_rebuilds_the_network_without_the_checkpoint(hub_checkpoint, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(hub_checkpoint("vivit"), folder)
    network, config = build_network("vivit", CLASSES, {}, str(folder))
    shutil.rmtree(folder)
    rebuilt, _ = build_network("vivit", CLASSES, {}, None, config)
    rebuilt.load_state_dict(network.state_dict())  # same architecture, key for key


def test_bad_pretrained_sources_are_one_line(hub_checkpoint, tmp_path):
    with pytest.raises(VidclsError, match="is a vivit checkpoint, not videomae"):
        build_model("videomae", 3, classes=CLASSES, pretrained=str(hub_checkpoint("vivit")))
    with pytest.raises(VidclsError, match="no such folder"):
        build_model("videomae", 3, classes=CLASSES, pretrained=str(tmp_path / "missing"))


HUB_CALLS = """
import json, sys, time
from vidcls.errors import VidclsError
from vidcls.models import build_model, get_preset
import vidcls.models.hf  # imports transformers: not part of the times
results = {}
for name in sys.argv[1:]:
    started = time.perf_counter()
    try:
        get_preset("videomae", name, {})
        build_model("videomae", 3, pretrained=name)
        outcome = "loaded"
    except VidclsError as error:
        outcome = str(error)
    results[name] = [outcome, time.perf_counter() - started]
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def unreachable_hub(hub_checkpoint, tmp_path_factory):
    """A made-up id and a cached one, each read for a preset and a network with the Hub unreachable: ``{id: [outcome,
    seconds]}``. The Hub is a closed local port (a refused connection, at once and always); the cache holds one
    checkpoint in huggingface_hub's layout (``models--OWNER--NAME/refs/main`` naming a ``snapshots/<commit>``)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    cache = tmp_path_factory.mktemp("hf_cache")
    commit = "0" * 40
    shutil.copytree(hub_checkpoint("videomae"), cache / "models--someone--tiny-videomae" / "snapshots" / commit)
    (cache / "models--someone--tiny-videomae" / "refs").mkdir()
    (cache / "models--someone--tiny-videomae" / "refs" / "main").write_text(commit)
    env = {key: value for key, value in os.environ.items() if key not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(HF_ENDPOINT=f"http://127.0.0.1:{closed_port}", HF_HUB_CACHE=str(cache))
    command = [sys.executable, "-c", HUB_CALLS, "nobody-here/made-up-model", "someone/tiny-videomae"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_unreachable_hub_id_fails_at_once_in_one_line(unreachable_hub):
    # huggingface_hub alone retries for about 25 s (1 + 2 + 4 + 8 + 8 s) before giving up
    message, seconds = unreachable_hub["nobody-here/made-up-model"]
    assert seconds < 3
    assert "\n" not in message and message.startswith("pretrained 'nobody-here/made-up-model'")
    assert "the Hub is unreachable and the id is not in the local cache" in message


def test_a_cached_hub_id_loads_from_the_cache_when_the_hub_is_unreachable(unreachable_hub):
    outcome, seconds = unreachable_hub["someone/tiny-videomae"]
    assert outcome == "loaded"
    assert seconds < 5  # 48 s here before: each optional file the cache lacks was retried


class Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_weights_that_would_run_code_are_refused_and_never_unpickled(hub_checkpoint, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "unsafe"
    folder.mkdir()
    shutil.copy(hub_checkpoint("videomae") / "config.json", folder)
    with open(folder / "pytorch_model.bin", "wb") as file:  # a .bin file, no safetensors: read with weights_only
        torch.save({"weight": Payload()}, file, pickle_protocol=pickle.DEFAULT_PROTOCOL)
    with pytest.raises(VidclsError, match="never unpickled"):
        build_model("videomae", 3, classes=CLASSES, pretrained=str(folder))
    assert not (tmp_path / "PWNED").exists()


def test_vjepa2_trains_its_pooler_with_the_head_and_never_its_predictor(hub_checkpoint):
    network, _ = build_network("vjepa2", CLASSES, {}, str(hub_checkpoint("vjepa2")))
    assert not any(p.requires_grad for p in network.model.vjepa2.predictor.parameters())
    freeze_all_but_head(network, "vjepa2")
    trainable = {name.split(".")[1] for name, p in network.named_parameters() if p.requires_grad}
    assert trainable == {"pooler", "classifier"}
    assert model_entry("vjepa2").head == ("model.pooler", "model.classifier")


def test_layer_decay_scales_each_block_and_spares_biases_norms_and_tokens(tiny_hub_options):
    network = build_model("timesformer", 3, classes=CLASSES, **tiny_hub_options("timesformer"))
    groups = hf.layer_decay_groups(network, "timesformer", lr=1.0, weight_decay=0.05, decay=0.5)
    lr_of = {id(p): (g["lr"], g["weight_decay"]) for g in groups for p in g["params"]}
    named = dict(network.named_parameters())
    assert len(lr_of) == len(named)  # every parameter in exactly one group
    layers = 2
    assert lr_of[id(named["model.timesformer.embeddings.patch_embeddings.projection.weight"])] == (0.5 ** (layers + 1), 0.05)
    assert lr_of[id(named["model.timesformer.embeddings.cls_token"])] == (0.5 ** (layers + 1), 0.0)
    assert lr_of[id(named["model.timesformer.encoder.layer.0.attention.attention.qkv.weight"])] == (0.5 ** 2, 0.05)
    assert lr_of[id(named["model.timesformer.encoder.layer.1.attention.attention.qkv.bias"])] == (0.5, 0.0)
    assert lr_of[id(named["model.classifier.weight"])] == (1.0, 0.05)
    assert lr_of[id(named["model.timesformer.layernorm.weight"])] == (1.0, 0.0)
    with pytest.raises(VidclsError, match="layer_decay is for the transformer families"):
        hf.layer_decay_groups(build_model("simple3d", 3), "simple3d", lr=1.0, weight_decay=0.0, decay=0.5)


@pytest.mark.parametrize("family", ["videomae", "vivit", "vjepa2", "timesformer", "videoprism"])
def test_drop_path_drops_residual_updates_in_training_only(family, tiny_hub_options):
    options = tiny_hub_options(family)
    torch.manual_seed(0)
    plain = build_model(family, 3, classes=CLASSES, **options)
    dropping = build_model(family, 3, classes=CLASSES, drop_path_rate=0.5, **options)
    dropping.load_state_dict(plain.state_dict())
    clips = torch.randn(8, *get_preset(family, None, options).input_shape)
    with torch.no_grad():
        assert torch.allclose(plain.eval()(clips), dropping.eval()(clips), atol=1e-6)  # identity at evaluation
        dropping.train()
        torch.manual_seed(1)
        first = dropping(clips)
        torch.manual_seed(2)
        assert not torch.allclose(first, dropping(clips))


def test_gradient_checkpointing_gives_the_same_gradients(tiny_hub_options):
    options = tiny_hub_options("videomae")
    plain = build_model("videomae", 3, classes=CLASSES, **options)
    checkpointed = build_model("videomae", 3, classes=CLASSES, gradient_checkpointing=True, **options)
    checkpointed.load_state_dict(plain.state_dict())
    clips = torch.randn(2, 3, 4, 32, 32)
    for network in (plain, checkpointed):
        network.train()(clips).sum().backward()
    assert checkpointed.model.is_activation_checkpointing
    for (name, a), (_, b) in zip(plain.named_parameters(), checkpointed.named_parameters()):
        assert torch.allclose(a.grad, b.grad, atol=1e-6), name


def test_every_hub_family_is_registered_with_a_head_and_its_own_preset(hub_families):
    for family in hub_families:
        card = model_entry(family)
        assert family in list_models() and card.loads_own_weights and card.head and card.preset is None


def test_videoprism_layer_decay_counts_spatial_then_temporal_blocks(tiny_hub_options):
    network = build_model("videoprism", 3, classes=CLASSES, **tiny_hub_options("videoprism"))
    groups = hf.layer_decay_groups(network, "videoprism", lr=1.0, weight_decay=0.05, decay=0.5)
    lr_of = {id(p): (g["lr"], g["weight_decay"]) for g in groups for p in g["params"]}
    named = dict(network.named_parameters())
    assert len(lr_of) == len(named)
    layers = 3  # 2 spatial, 1 temporal
    prefix = "model.vision_model."
    assert lr_of[id(named[prefix + "spatial_embeddings.patch_embeddings.projection.weight"])] == (0.5 ** (layers + 1), 0.05)
    assert lr_of[id(named[prefix + "temporal_embeddings.position_embeddings"])] == (0.5 ** (layers + 1), 0.0)
    assert lr_of[id(named[prefix + "spatial_layers.0.mlp.fc1.weight"])][0] == 0.5 ** 3
    assert lr_of[id(named[prefix + "spatial_layers.1.mlp.fc1.weight"])][0] == 0.5 ** 2
    assert lr_of[id(named[prefix + "temporal_layers.0.mlp.fc1.weight"])][0] == 0.5
    assert lr_of[id(named["model.head.q_proj.weight"])] == lr_of[id(named["model.classifier.weight"])] == (1.0, 0.05)


def test_hub_folder_export_refuses_what_it_cannot_write(tmp_path, tiny_hub_options):
    with pytest.raises(VidclsError, match="--format huggingface is for the transformer families"):
        hf.save_hub_folder(build_model("simple3d", 3), "simple3d", get_preset("slow_r50"), tmp_path / "a")
    network = build_model("vjepa2", 3, classes=CLASSES, **tiny_hub_options("vjepa2"))
    clip = resolve_clip(get_preset("vjepa2", None, tiny_hub_options("vjepa2")), {"eval_resize": 64})
    # V-JEPA 2's processor derives its resize from its crop (x 256/224): a trained-with resize of 64 cannot be written
    with pytest.raises(VidclsError, match=r"cannot express this clip's eval_resize 64 \(it would use 36\)"):
        hf.save_hub_folder(network, "vjepa2", clip, tmp_path / "b")


def test_hub_folder_export_refuses_a_clip_rounded_otherwise_than_its_processor(tmp_path, tiny_hub_options):
    network = build_model("videomae", 3, classes=CLASSES, **tiny_hub_options("videomae"))
    clip = resolve_clip(get_preset("videomae", None, tiny_hub_options("videomae")), {"eval_rounding": "torchvision"})
    with pytest.raises(VidclsError, match=r"cannot express this clip's eval_rounding torchvision \(it would use transformers\)"):
        hf.save_hub_folder(network, "videomae", clip, tmp_path / "c")
