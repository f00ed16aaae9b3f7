"""Fixtures that make small real videos at test time (nothing binary is committed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidcls.datatools.synthetic import SynthConfig, synthesize_dataset, write_video

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
# Four motions are enough to show learning and keep the suite fast on 2 cores.
FEW_CLASSES = ("moving_down", "moving_left", "moving_right", "moving_up")


def counter_video(path: Path, num_frames: int = 24, fps: int = 12, size: tuple[int, int] = (48, 32)) -> Path:
    """A video whose frame ``i`` is a flat grey of level ``10 * i``: a frame's content names its index."""
    width, height = size
    levels = (np.arange(num_frames) * 10 % 256).astype(np.uint8)
    frames = np.broadcast_to(levels[:, None, None, None], (num_frames, height, width, 3)).copy()
    write_video(frames, path, fps)
    return path


@pytest.fixture
def make_counter_video(tmp_path: Path):
    def make(name: str = "counter.mp4", **kwargs) -> Path:
        return counter_video(tmp_path / name, **kwargs)

    return make


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic dataset with train/val/test class folders (4 motion classes)."""
    root = tmp_path_factory.mktemp("synth")
    synthesize_dataset(root, {"train": 12, "val": 3, "test": 4}, SynthConfig(seed=1), classes=FEW_CLASSES)
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
