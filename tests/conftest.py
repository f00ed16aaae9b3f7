"""Fixtures shared by every layer's tests: small real videos made at test time (nothing binary is
committed), the tiny training settings and a checkpoint trained with them.

Test modules never import each other or this file: what they share is a fixture here, or in the
``conftest.py`` of their folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidcls.datatools.synthetic import SynthConfig, synthesize_dataset, write_video

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
# Four motions are enough to show learning and keep the suite fast on 2 cores.
FEW_CLASSES = ("moving_down", "moving_left", "moving_right", "moving_up")
# `vidcls fit/test` flags for a run of seconds on a CPU: simple3d on 4 frames of 32², two batches.
TINY = ("--trainer.accelerator", "cpu", "--trainer.enable_progress_bar", "false", "--trainer.limit_train_batches", "2",
        "--trainer.limit_val_batches", "1", "--trainer.limit_test_batches", "1", "--model.model", "simple3d",
        "--data.batch_size", "4", "--data.num_workers", "0", "--data.num_frames", "4", "--data.crop_size", "32",
        "--data.min_scale", "32", "--data.max_scale", "36", "--data.eval_resize", "32")


def _counter_video(path: Path, num_frames: int = 24, fps: int = 12, size: tuple[int, int] = (48, 32)) -> Path:
    width, height = size
    levels = (np.arange(num_frames) * 10 % 256).astype(np.uint8)
    frames = np.broadcast_to(levels[:, None, None, None], (num_frames, height, width, 3)).copy()
    write_video(frames, path, fps)
    return path


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
    """``counter_video(path, num_frames=24, fps=12, size=(48, 32)) -> path``: writes a video whose frame
    ``i`` is a flat grey of level ``10 * i``, so a frame's content names its index."""
    return _counter_video


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
