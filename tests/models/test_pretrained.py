"""Starting from earlier weights: the three checkpoint layouts, head replacement, freezing, refusals."""

import warnings

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader
from torchvision.models import video

from vidcls.errors import VidclsError
from vidcls.models import build_model, published_classes
from vidcls.models.pretrained import build_network, freeze_all_but_head, load_pretrained, published_weights, read_weights
from vidcls.training.classifier import VideoClassifier

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    from pytorchvideo.models import hub
    from pytorchvideo.models.resnet import create_resnet


def assert_loaded_except_head(network, state, head):
    """Every weight outside ``head`` equals the checkpoint's; the head does not have its shape."""
    for key, value in network.state_dict().items():
        if key.startswith(head + "."):
            assert value.shape != state[key].shape, key
        else:
            assert torch.equal(value, state[key]), key


def test_our_lightning_checkpoint_loads_with_a_new_head(tmp_path):
    classifier = VideoClassifier("simple3d", classes=["a", "b", "c", "d"], optimizer="adamw", lr=1e-3)
    batches = [{"video": torch.randn(3, 4, 32, 32), "label": label} for label in range(4)]
    trainer = L.Trainer(max_epochs=1, limit_val_batches=0, logger=False, default_root_dir=tmp_path,
                        enable_progress_bar=False, enable_checkpointing=False)
    trainer.fit(classifier, DataLoader(batches, batch_size=2))
    path = tmp_path / "four_classes.ckpt"
    trainer.save_checkpoint(path)

    tuned = VideoClassifier("simple3d", classes=["x", "y"], pretrained=str(path))
    state = {key.removeprefix("network."): value for key, value in classifier.state_dict().items()}
    assert_loaded_except_head(tuned.network, state, "head.3")

    # a checkpoint of a model started from pretrained weights holds them: restoring it reads nothing else
    trainer.fit(tuned, DataLoader(batches[:2], batch_size=2))
    trainer.save_checkpoint(tmp_path / "tuned.ckpt")
    assert torch.load(tmp_path / "tuned.ckpt", weights_only=True)["hyper_parameters"]["pretrained"] is None
    assert tuned.hparams.pretrained == str(path)  # the run's own record keeps it


def test_plain_state_dict_loads_and_reports_the_new_head(tmp_path):
    published = video.mc3_18(weights=None)  # torchvision's layout: 400 classes, a plain state dict
    torch.save(published.state_dict(), tmp_path / "mc3_18.pth")
    network = build_model("mc3_18", num_classes=5)
    assert load_pretrained(network, "mc3_18", str(tmp_path / "mc3_18.pth")) == ["fc.weight", "fc.bias"]
    assert_loaded_except_head(network, published.state_dict(), "fc")


def test_pytorchvideo_checkpoint_with_its_own_names_loads(tmp_path):
    # built by PyTorchVideo's own factory (narrow to stay small), saved as its model zoo does
    published = create_resnet(stem_conv_kernel_size=(1, 7, 7), stem_dim_out=8, model_num_class=400)
    torch.save({"model_state": published.state_dict(), "epoch": 196}, tmp_path / "SLOW_8x8_R50.pyth")
    network = build_model("slow_r50", num_classes=3, stem_dim_out=8)
    load_pretrained(network, "slow_r50", str(tmp_path / "SLOW_8x8_R50.pyth"))
    assert_loaded_except_head(network, published.state_dict(), "blocks.5.proj")


HUB_BUILDERS = {
    "slow_r50": hub.slow_r50, "x3d_xs": hub.x3d_xs, "x3d_s": hub.x3d_s, "x3d_m": hub.x3d_m,
    "slowfast_r50": hub.slowfast_r50, "r2plus1d_r50": hub.r2plus1d_r50,
}


@pytest.mark.parametrize("name", HUB_BUILDERS)
def test_our_models_have_the_names_and_shapes_of_pytorchvideos_published_ones(name):
    """The architecture torch.hub builds for the published checkpoint: every key and shape ours too."""
    published = {key: value.shape for key, value in HUB_BUILDERS[name]().state_dict().items()}
    ours = {key: value.shape for key, value in build_model(name, num_classes=400).state_dict().items()}
    assert ours == published
    assert published_weights()[name].endswith(".pyth")


def test_freezing_leaves_only_the_head_trainable():
    classifier = VideoClassifier("x3d_xs", classes=["a", "b", "c"], freeze_backbone=True)
    trainable = [name for name, p in classifier.network.named_parameters() if p.requires_grad]
    assert trainable == ["blocks.5.proj.weight", "blocks.5.proj.bias"]
    network = build_model("mc3_18", num_classes=2)
    freeze_all_but_head(network, "mc3_18")
    assert [name for name, p in network.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]


class Payload:
    """Unpickling this would create ``marker``: what a malicious checkpoint does with a shell command."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_file_needing_arbitrary_unpickling_is_refused_unopened(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"state_dict": {"network.head.3.weight": Payload(marker)}}, tmp_path / "evil.ckpt")
    with pytest.raises(VidclsError, match=r"evil\.ckpt: not a checkpoint, or one holding objects other than weights; refused") as error:
        read_weights(str(tmp_path / "evil.ckpt"))
    assert not marker.exists()
    assert "\n" not in str(error.value)


def test_unknown_name_is_one_line_listing_the_known_ones():
    with pytest.raises(VidclsError, match="'kinetics9000': no such file, nor published weights; known names: .*x3d_s") as error:
        VideoClassifier("x3d_s", classes=["a", "b"], pretrained="kinetics9000")
    assert "\n" not in str(error.value)
    assert set(published_weights()) == {name for name in HUB_BUILDERS} | {
        "r3d_18", "mc3_18", "r2plus1d_18", "s3d", "mvit_v2_s", "swin3d_t"}


def test_weights_of_another_architecture_are_an_error(tmp_path):
    torch.save(build_model("simple3d", num_classes=4).state_dict(), tmp_path / "simple3d.pth")
    with pytest.raises(VidclsError, match="do not fit x3d_xs: .* missing and .* unexpected keys"):
        load_pretrained(build_model("x3d_xs", num_classes=4), "x3d_xs", str(tmp_path / "simple3d.pth"))
    torch.save(build_model("simple3d", num_classes=4, widths=(8, 16, 32, 64)).state_dict(), tmp_path / "narrow.pth")
    with pytest.raises(VidclsError, match=r"do not fit simple3d: features.0.weight is \(8, 3, 3, 3, 3\) there"):
        load_pretrained(build_model("simple3d", num_classes=4), "simple3d", str(tmp_path / "narrow.pth"))
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(VidclsError, match="empty.pth: not a checkpoint, or unreadable"):
        read_weights(str(tmp_path / "empty.pth"))


def test_only_a_checkpoint_naming_its_classes_is_taken_for_a_vidcls_one(tmp_path):
    """A "state_dict" key alone (another library's Lightning checkpoint) is not vidcls's layout."""
    weights = {f"network.{key}": value for key, value in build_model("simple3d", num_classes=4).state_dict().items()}
    torch.save({"state_dict": weights}, tmp_path / "other.ckpt")
    with pytest.raises(VidclsError, match="other.ckpt: not a state dict, a vidcls checkpoint or a PyTorchVideo checkpoint"):
        read_weights(str(tmp_path / "other.ckpt"))
    torch.save({"state_dict": weights, "hyper_parameters": {"classes": list("abcd")}}, tmp_path / "ours.ckpt")
    assert read_weights(str(tmp_path / "ours.ckpt")).keys() == build_model("simple3d", num_classes=4).state_dict().keys()


def test_a_layout_the_model_does_not_read_is_one_line(tmp_path):
    torch.save({"model_state": build_model("simple3d", num_classes=4).state_dict()}, tmp_path / "ptv.pyth")
    with pytest.raises(VidclsError, match="ptv.pyth: a pytorchvideo checkpoint, and this model reads vidcls, state_dict"):
        load_pretrained(build_model("simple3d", num_classes=4), "simple3d", str(tmp_path / "ptv.pyth"))


def test_published_weights_whose_head_names_the_datas_classes_keep_it_in_the_datas_order(monkeypatch):
    published = published_classes("mc3_18")  # torchvision's weights enum: the Kinetics-400 head order
    torch.manual_seed(0)
    original = video.mc3_18(num_classes=len(published)).state_dict()
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", lambda *args, **kwargs: original)  # no download here
    classes = list(reversed(published))
    network, _ = build_network("mc3_18", classes, {}, pretrained="mc3_18")
    assert torch.equal(network.fc.weight, original["fc.weight"].flip(0))  # kept, row i is classes[i]
    assert torch.equal(network.fc.bias, original["fc.bias"].flip(0))
    fewer, _ = build_network("mc3_18", classes[:10], {}, pretrained="mc3_18")  # other classes: a new head
    assert fewer.fc.weight.shape == (10, original["fc.weight"].shape[1])


def test_a_hub_classifier_whose_labels_name_the_datas_classes_is_kept_and_reordered(hub_checkpoint):
    folder = hub_checkpoint("videomae")  # a head for abseiling, archery, bowling, juggling, yawning
    labels = ["abseiling", "archery", "bowling", "juggling", "yawning"]
    order = [3, 0, 4, 2, 1]
    as_published, _ = build_network("videomae", labels, {}, pretrained=str(folder))
    reordered, _ = build_network("videomae", [labels[i] for i in order], {}, pretrained=str(folder))
    clips = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(reordered.eval()(clips), as_published.eval()(clips)[:, order])
    assert reordered.model.config.id2label[0] == "juggling"
