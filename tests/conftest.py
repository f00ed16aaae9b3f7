"""Fixtures shared by every layer's tests: small real videos made at test time (nothing binary is
committed), the tiny training settings and a checkpoint trained with them.

Test modules never import each other or this file: what they share is a fixture here, or in the
``conftest.py`` of their folder, and code (the video generator, the browser client) is in
:mod:`tests.helpers`.
"""

from __future__ import annotations

import csv
import importlib
import json
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


@pytest.fixture(autouse=True)
def malloc_as_the_system_has_it(monkeypatch):
    """`vidcls predict` run in this process would keep freed memory for the rest of the session (tests/test_io.py tests it)."""
    monkeypatch.setattr("vidcls.io.keep_freed_memory", lambda: False)


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
    """A tiny Charades laid out as published: ``Charades/`` (the annotations of Charades.zip: classes file, train/test
    CSVs with quoted free-text fields and an ``actions`` column) and ``Charades_v1_480/<id>.mp4`` (the videos);
    synth_root's videos, with actions by motion (moving_right: none)."""
    root = tmp_path_factory.mktemp("charades")
    (root / "Charades_v1_480").mkdir()
    (root / "Charades").mkdir()
    (root / "Charades" / "Charades_v1_classes.txt").write_text("".join(f"c{i:03d} {name}\n" for i, name in enumerate(CHARADES_CLASSES)))
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
        with (root / "Charades" / f"Charades_v1_{split}.csv").open("w", newline="") as handle:
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
# 2 blocks of width 32 (VideoPrism: 2 spatial and 1 temporal). The model options build one from its configuration; hub_checkpoint saves one.
TINY_HUB_OPTIONS = {
    "videomae": {"image_size": 32, "patch_size": 16, "num_frames": 4, "tubelet_size": 2},
    "timesformer": {"image_size": 32, "patch_size": 16, "num_frames": 4},
    "vivit": {"image_size": 32, "num_frames": 4, "tubelet_size": [2, 16, 16]},
    "vjepa2": {"crop_size": 32, "patch_size": 16, "frames_per_clip": 4, "tubelet_size": 2, "num_pooler_layers": 1,
               "pred_hidden_size": 32, "pred_num_hidden_layers": 1, "pred_num_attention_heads": 2},
    "videoprism": {"image_size": 32, "num_frames": 4, "tubelet_size": [1, 16, 16], "num_spatial_layers": 2,
                   "num_temporal_layers": 1},
}
TINY_WIDTH = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2}
HUB_FAMILIES = tuple(TINY_HUB_OPTIONS)


def _tiny_hub_options(family: str) -> dict:
    """Model options that build a tiny ``family`` network from its configuration."""
    width = TINY_WIDTH if family == "vjepa2" else {**TINY_WIDTH, "intermediate_size": 37}
    if family == "videoprism":  # its depth is its spatial and temporal blocks'
        width = {key: value for key, value in width.items() if key != "num_hidden_layers"}
    return {**TINY_HUB_OPTIONS[family], **width}


@pytest.fixture(scope="session")
def hub_checkpoint(tmp_path_factory: pytest.TempPathFactory):
    """``hub_checkpoint(family)``: a folder written by ``save_pretrained`` (config, safetensors, processor config).

    Its head has five "Kinetics" classes, so a run on other classes must replace it. VideoMAE's
    folder has an image processor config (preprocessor_config.json, with ImageNet statistics), as
    the published VideoMAE checkpoints do; the others a video processor config. VideoPrism's
    processor (LLaVA-OneVision's) resizes the whole frame to a 32 square, bicubic, with no crop.
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
            elif family == "videoprism":
                processor = getattr(transformers, spec.processor)(size={"height": 32, "width": 32})
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


# The benchmark sets' published layouts (vidcls.data.formats), in miniature: three classes, real
# videos of 2 s at 12 fps, annotation files byte for byte in the published form, quirks included.
UCF101_CLASSES = ("ApplyEyeMakeup", "BandMarching", "HandstandPushups")
HMDB51_VIDEOS = {  # class -> names as HMDB51 spells them, and each one's tag in splits 1, 2, 3
    "brush_hair": {"April_09_brush_hair_u_nm_np1_ba_goo_0.avi": "122", "Brushing_Hair_with_Beth_brush_hair_h_nm_np1_le_goo_0.avi": "211",
                   "Aussie_Brushing_Hair!_brush_hair_u_nm_np1_ba_med_2.avi": "120"},
    "clap": {"#20_Rhythm_clap_u_nm_np1_fr_goo_0.avi": "122", "Hand_Clap_Chiquita_Banana_&_Friends_clap_u_cm_np1_fr_med_0.avi": "212",
             "Bruce_Lee_'s_(Clap)_Party_clap_f_nm_np1_le_bad_1.avi": "001"},
    "fall_floor": {"Bad_Fall_[Funny]_fall_floor_f_cm_np1_ba_bad_0.avi": "122", "Parkour_fall_floor_u_cm_np1_fr_med_0.avi": "211",
                   "AMADEUS_fall_floor_f_nm_np1_ri_med_7.avi": "120"},
}
SSV2_TEMPLATES = {"Holding [something] next to [something]": "1", "Pushing [something] from left to right": "2",
                  "Approaching [something] with your camera": "0"}  # labels.json's key order is not the index order
DIVING48_VOCAB = [["Back", "15som", "05Twis", "FREE"], ["Back", "15som", "15Twis", "FREE"], ["Forward", "35som", "NoTwis", "PIKE"]]


def _copy(source: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, path)


def _ucf101(top: Path, avi: Path) -> tuple[Path, Path]:
    videos, lists = top / "UCF-101", top / "ucfTrainTestlist"
    lists.mkdir()
    crlf = "".join(f"{i} {name}\r\n" for i, name in enumerate(UCF101_CLASSES, start=1))
    (lists / "classInd.txt").write_bytes(crlf.encode())
    for split in (1, 2, 3):
        train, test = [], []
        for index, name in enumerate(UCF101_CLASSES, start=1):
            stem = "HandStandPushups" if name == "HandstandPushups" else name  # the published set's spelling
            for group in (1, 2, 3):
                path = f"{name}/v_{stem}_g{group:02d}_c01.avi"
                _copy(avi, videos / path)
                (test.append(path) if group == split else train.append(f"{path} {index}"))
        (lists / f"trainlist0{split}.txt").write_bytes("".join(f"{line}\r\n" for line in train).encode())
        (lists / f"testlist0{split}.txt").write_bytes("".join(f"{line}\r\n" for line in test).encode())
    return videos, lists


def _hmdb51(top: Path, avi: Path) -> tuple[Path, Path]:
    videos, splits = top / "hmdb51_org", top / "testTrainMulti_7030_splits"
    splits.mkdir()
    for label, names in HMDB51_VIDEOS.items():
        for name in names:
            _copy(avi, videos / label / name)
        for split in (1, 2, 3):
            lines = "".join(f"{name} {tags[split - 1]} \n" for name, tags in names.items())  # the trailing space is published
            (splits / f"{label}_test_split{split}.txt").write_text(lines)
    return videos, splits


def _ssv2(top: Path, webm: Path) -> tuple[Path, Path]:
    videos, labels = top / "20bn-something-something-v2", top / "labels"
    labels.mkdir()
    (labels / "something-something-v2-labels.json").write_text(
        json.dumps({t.replace("[", "").replace("]", ""): i for t, i in SSV2_TEMPLATES.items()}, indent=1))
    ids = iter(range(1000, 2000))
    for name, count in (("train", 2), ("validation", 1)):
        items = []
        for template in SSV2_TEMPLATES:
            for _ in range(count):
                video_id = str(next(ids))
                _copy(webm, videos / f"{video_id}.webm")
                filled = template.replace("[something]", "a cup", 1).replace("[something]", "a pen")
                items.append({"id": video_id, "label": filled.lower(), "template": template,
                              "placeholders": ["a cup", "a pen"][: template.count("[")]})
        (labels / f"something-something-v2-{name}.json").write_text(json.dumps(items))
    _copy(webm, videos / "1999.webm")
    (labels / "something-something-v2-test.json").write_text(json.dumps([{"id": "1999"}]))
    return videos, labels


def _diving48(top: Path, mp4: Path) -> tuple[Path, Path]:
    videos, labels = top / "rgb", top / "labels"
    labels.mkdir()
    (labels / "Diving48_vocab.json").write_text(json.dumps(DIVING48_VOCAB))
    for name, count in (("train", 2), ("test", 1)):
        items = []
        for label in range(len(DIVING48_VOCAB)):
            for n in range(count):
                vid_name = f"-mmq0PT-u8k_{name}{label}{n}"
                _copy(mp4, videos / f"{vid_name}.mp4")
                items.append({"vid_name": vid_name, "label": label, "start_frame": 6, "end_frame": 18})
        (labels / f"Diving48_V2_{name}.json").write_text(json.dumps(items))
    return videos, labels


@pytest.fixture(scope="session")
def published_dataset(tmp_path_factory: pytest.TempPathFactory):
    """``published_dataset(name) -> (videos, annotations)``: a tiny tree of ucf101, hmdb51, ssv2 or diving48 as published.

    Each set has three classes; every video is the same 2 s counter clip (``make_video``'s counter
    pattern; H.264 in AVI for UCF101 and HMDB51, VP9 WebM for SSv2, H.264 MP4 for Diving-48). UCF101's lists end in CRLF and its HandstandPushups folder holds
    v_HandStandPushups files; HMDB51's names hold ``#&'()[]!`` and its split lines a trailing
    space. Shared by the session: tests read the trees, none may change them.
    """
    made: dict[str, tuple[Path, Path]] = {}
    sources = tmp_path_factory.mktemp("published_sources")
    builders = {"ucf101": (_ucf101, "avi"), "hmdb51": (_hmdb51, "avi"), "ssv2": (_ssv2, "webm"), "diving48": (_diving48, "mp4")}

    def make(name: str) -> tuple[Path, Path]:
        if name not in made:
            build, kind = builders[name]
            source = sources / f"counter.{kind}"
            if not source.exists():
                make_video(source, codec="libvpx-vp9" if kind == "webm" else "libx264")
            made[name] = build(tmp_path_factory.mktemp(name), source)
        return made[name]

    return make
