"""Fixtures shared by every layer's tests: small real videos made at test time (nothing binary is
committed), the tiny training settings and a checkpoint trained with them.

Test modules never import each other or this file: what they share is a fixture here, or in the
``conftest.py`` of their folder, and code (the video generator, the browser client) is in
:mod:`tests.helpers`.
"""

from __future__ import annotations

import csv
import importlib
import shutil
import sys
import warnings
from pathlib import Path

import pytest

from tests.helpers.browser import HeadlessChromium, find_chromium
from tests.helpers.videos import make_video
from vidcls.datatools.synthetic import SynthConfig, synthesize_dataset

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
# Four motions are enough to show learning and keep the suite fast on 2 cores.
FEW_CLASSES = ("moving_down", "moving_left", "moving_right", "moving_up")
# `vidcls fit/test` flags for a run of seconds on a CPU: simple3d on 4 frames of 32², two batches.
TINY = ("--trainer.accelerator", "cpu", "--trainer.enable_progress_bar", "false", "--trainer.limit_train_batches", "2",
        "--trainer.limit_val_batches", "1", "--trainer.limit_test_batches", "1", "--model.model", "simple3d",
        "--data.batch_size", "4", "--data.num_workers", "0", "--data.num_frames", "4", "--data.crop_size", "32",
        "--data.min_scale", "32", "--data.max_scale", "36", "--data.eval_resize", "32")


@pytest.fixture(scope="session")
def few_classes() -> tuple[str, ...]:
    """The classes of ``synth_root``, sorted (so also the index order a datamodule infers)."""
    return FEW_CLASSES


@pytest.fixture(scope="session")
def tiny_args() -> tuple[str, ...]:
    """`vidcls fit/test` flags for a run of seconds on a CPU (no data or run folder: add ``--data.root``...)."""
    return TINY


@pytest.fixture(scope="session")
def counter_video():
    """``counter_video(path, num_frames=24, fps=12, size=(48, 32), **options) -> path``: writes an H.264 MP4
    whose frame ``i`` is a flat grey of level ``10 * i``, so a frame's content names its index
    (``options``: those of :func:`tests.helpers.videos.make_video`)."""

    def write(path: Path, num_frames: int = 24, fps: int = 12, size: tuple[int, int] = (48, 32), **options) -> Path:
        return make_video(path, frames=num_frames, fps=fps, size=size, pattern="counter", **options)

    return write


@pytest.fixture
def make_counter_video(tmp_path: Path, counter_video):
    """``make(name="counter.mp4", **options) -> path``: a counter video in this test's ``tmp_path``."""

    def make(name: str = "counter.mp4", **kwargs) -> Path:
        return counter_video(tmp_path / name, **kwargs)

    return make


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic dataset with train/val/test class folders (4 motion classes)."""
    root = tmp_path_factory.mktemp("synth")
    synthesize_dataset(root, {"train": 12, "val": 3, "test": 4}, SynthConfig(seed=1), classes=FEW_CLASSES)
    return root


@pytest.fixture(scope="session")
def tiny_checkpoint(synth_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint as `vidcls fit` writes it: simple3d on 4 frames of 32² (``tiny_args``), after two batches.

    Shared by the whole session: tests read it, none may change it.
    """
    from vidcls.cli import main

    out = tmp_path_factory.mktemp("tiny_run")
    main(["fit", *TINY, "--data.root", str(synth_root), "--trainer.default_root_dir", str(out),
          "--trainer.max_epochs", "1", "--trainer.limit_val_batches", "0", "--trainer.logger", "false"])
    (checkpoint,) = out.rglob("*.ckpt")
    return checkpoint


# Multi-label tags of synth_root's motions (moving_right has none: its videos are negatives), and the same as Charades
# actions: a class id with its start and end seconds (moving_left's repeats c002, which counts once).
MOTION_TAGS = {"moving_down": ("vertical", "down"), "moving_left": ("horizontal", "left"), "moving_right": (),
               "moving_up": ("vertical", "up")}
CHARADES_CLASSES = ("Holding some clothes", "Putting clothes somewhere", "Taking some clothes from somewhere",
                    "Throwing clothes somewhere")
MOTION_ACTIONS = {"moving_down": "c000 0.00 1.50;c003 0.50 2.00", "moving_left": "c002 0.10 1.00;c000 1.00 2.00;c002 1.20 1.90",
                  "moving_right": "", "moving_up": "c001 0.00 2.00"}


@pytest.fixture(scope="session")
def motion_tags() -> dict[str, tuple[str, ...]]:
    """Each synth_root motion's tags in ``tag_lists`` (none: a negative)."""
    return MOTION_TAGS


@pytest.fixture(scope="session")
def tag_lists(synth_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Multi-label lists of synth_root's videos tagged by ``motion_tags``: train as ``path a;b`` lines (a negative as
    ``path ;``), val and test as CSVs with a ``path,labels`` header (a negative's field empty)."""
    folder = tmp_path_factory.mktemp("tag_lists")
    lists = {}
    for split in ("train", "val", "test"):
        videos = sorted((synth_root / split).rglob("*.mp4"))
        if split == "train":
            lines = [f"{video} {';'.join(MOTION_TAGS[video.parent.name]) or ';'}" for video in videos]
            lists[split] = folder / "train.txt"
            lists[split].write_text("\n".join(lines) + "\n")
        else:
            lists[split] = folder / f"{split}.csv"
            with lists[split].open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["path", "labels"])
                writer.writerows([str(video), ";".join(MOTION_TAGS[video.parent.name])] for video in videos)
    return lists


@pytest.fixture(scope="session")
def multilabel_checkpoint(tag_lists: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A multi-label checkpoint as `vidcls fit` writes it on ``tag_lists`` (``tiny_args``, two batches). Read-only."""
    from vidcls.cli import main

    out = tmp_path_factory.mktemp("multilabel_run")
    main(["fit", *TINY, "--data.train_list", str(tag_lists["train"]), "--trainer.default_root_dir", str(out),
          "--trainer.max_epochs", "1", "--trainer.logger", "false"])
    (checkpoint,) = out.rglob("*.ckpt")
    return checkpoint


@pytest.fixture(scope="session")
def charades_root(synth_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Charades laid out as published (classes file, train/test CSVs with quoted free-text fields and an
    ``actions`` column, ``Charades_v1_480/<id>.mp4``): synth_root's videos, actions by motion (moving_right: none)."""
    root = tmp_path_factory.mktemp("charades")
    (root / "Charades_v1_480").mkdir()
    (root / "Charades_v1_classes.txt").write_text("".join(f"c{i:03d} {name}\n" for i, name in enumerate(CHARADES_CLASSES)))
    header = ["id", "subject", "scene", "quality", "relevance", "verified", "script", "objects", "descriptions", "actions",
              "length"]
    for split, per_class in (("train", 3), ("test", 4)):
        rows = []
        for motion in MOTION_ACTIONS:
            for n, video in enumerate(sorted((synth_root / split / motion).glob("*.mp4"))[:per_class]):
                video_id = f"{split[:2].upper()}{motion[7].upper()}{n:02d}"
                shutil.copy(video, root / "Charades_v1_480" / f"{video_id}.mp4")
                rows.append([video_id, "HR43", "Kitchen", "6", "7", "Yes", f"A person, in a kitchen, is {motion}.",
                             "clothes;table", "A person holds clothes, then puts them down.", MOTION_ACTIONS[motion], "2.00"])
        with (root / f"Charades_v1_{split}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return root


@pytest.fixture
def media_dir() -> Path:
    """Real clips from ../shared/media; tests using it skip where shared/ is absent."""
    media = SHARED / "media"
    if not media.is_dir():
        pytest.skip("../shared/media is not available")
    return media


@pytest.fixture
def media_dir_or_none() -> Path | None:
    """Real clips from ../shared/media where present, for tests that also check them."""
    media = SHARED / "media"
    return media if media.is_dir() else None


@pytest.fixture
def shared_dir() -> Path:
    """../shared (real data sets' files where a machine has them); tests check what they need is there."""
    return SHARED


# Tiny random transformers video classifiers (as transformers' own tests build them): 32² input, 4 frames,
# 2 blocks of width 32. The model options build one from its configuration; hub_checkpoint saves one.
TINY_HUB_OPTIONS = {
    "videomae": {"image_size": 32, "patch_size": 16, "num_frames": 4, "tubelet_size": 2},
    "timesformer": {"image_size": 32, "patch_size": 16, "num_frames": 4},
    "vivit": {"image_size": 32, "num_frames": 4, "tubelet_size": [2, 16, 16]},
    "vjepa2": {"crop_size": 32, "patch_size": 16, "frames_per_clip": 4, "tubelet_size": 2, "num_pooler_layers": 1,
               "pred_hidden_size": 32, "pred_num_hidden_layers": 1, "pred_num_attention_heads": 2},
}
TINY_WIDTH = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2}
HUB_FAMILIES = tuple(TINY_HUB_OPTIONS)


def _tiny_hub_options(family: str) -> dict:
    """Model options that build a tiny ``family`` network from its configuration."""
    width = TINY_WIDTH if family == "vjepa2" else {**TINY_WIDTH, "intermediate_size": 37}
    return {**TINY_HUB_OPTIONS[family], **width}


@pytest.fixture(scope="session")
def hub_checkpoint(tmp_path_factory: pytest.TempPathFactory):
    """``hub_checkpoint(family)``: a folder written by ``save_pretrained`` (config, safetensors, processor config).

    Its head has five "Kinetics" classes, so a run on other classes must replace it. VideoMAE's
    folder has an image processor config (preprocessor_config.json, with ImageNet statistics), as
    the published VideoMAE checkpoints do; the others a video processor config.
    """
    transformers = pytest.importorskip("transformers")
    from vidcls.models.hf import FAMILIES

    made: dict[str, Path] = {}

    def make(family: str) -> Path:
        if family not in made:
            spec = FAMILIES[family]
            labels = ["abseiling", "archery", "bowling", "juggling", "yawning"]
            config = getattr(transformers, spec.config)(
                **_tiny_hub_options(family), id2label=dict(enumerate(labels)), label2id={k: i for i, k in enumerate(labels)}
            )
            folder = tmp_path_factory.mktemp(f"hub_{family}")
            getattr(transformers, spec.model)(config).save_pretrained(folder)
            size = {"shortest_edge": 36}
            crop = {"height": 32, "width": 32}
            if family == "videomae":
                processor = transformers.VideoMAEImageProcessor(size=size, crop_size=crop, image_mean=[0.485, 0.456, 0.406],
                                                                image_std=[0.229, 0.224, 0.225])
            else:
                processor = getattr(transformers, spec.processor)(size=size, crop_size=crop)
            processor.save_pretrained(folder)
            made[family] = folder
        return made[family]

    return make


@pytest.fixture(params=HUB_FAMILIES)
def family(request: pytest.FixtureRequest) -> str:
    """Each Hugging Face family in turn: a test taking ``family`` runs once for each."""
    return request.param


@pytest.fixture(scope="session")
def hub_families() -> tuple[str, ...]:
    return HUB_FAMILIES


@pytest.fixture(scope="session")
def tiny_hub_options():
    """``tiny_hub_options(family) -> dict``: model options that build a tiny ``family`` network from its configuration."""
    return _tiny_hub_options


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """Headless Chromium for the HTML pages' tests; they skip, with what to install, where there is none."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium for the browser tests: install it (Debian: apt-get install chromium; make does it as root)")
    chromium = HeadlessChromium(executable, tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


@pytest.fixture
def pytorchvideo_functional(monkeypatch: pytest.MonkeyPatch):
    """``pytorchvideo.transforms.functional``, PyTorchVideo's own resize and crop functions.

    pytorchvideo 0.1.5 imports ``torchvision.transforms.functional_tensor``, which torchvision 0.17
    renamed ``_functional_tensor``: the module is given under its old name while it imports.
    """
    from torchvision.transforms import _functional_tensor

    monkeypatch.setitem(sys.modules, "torchvision.transforms.functional_tensor", _functional_tensor)
    with warnings.catch_warnings():  # its import calls the deprecated torch.jit.script
        warnings.simplefilter("ignore", FutureWarning)
        return importlib.import_module("pytorchvideo.transforms.functional")
