"""The synthetic dataset is a function of its seed: two syntheses with one seed decode to the same frames."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from vidcls.datatools.synthetic import CLASSES, SynthConfig, synthesize_dataset

# One video of every motion: before x264 was made repeatable, about 2 in 3 of these decoded differently run to run.
COUNTS = {"train": 1}


def _decoded(root: Path) -> dict[str, np.ndarray]:
    """Every video under ``root``, decoded by PyAV (FFmpeg's decoder, not the encoder's library) to RGB frames."""
    videos = {}
    for path in sorted(root.rglob("*.mp4")):
        with av.open(str(path)) as container:
            frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        videos[str(path.relative_to(root))] = np.stack(frames)
    return videos


@pytest.fixture(scope="module")
def seed0_twice(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Seed 0 written twice: by two encoding processes, then in this process."""
    runs = []
    for workers in (2, 1):
        root = tmp_path_factory.mktemp(f"seed0_workers{workers}")
        synthesize_dataset(root, COUNTS, SynthConfig(seed=0), workers=workers)
        runs.append(_decoded(root))
    return runs[0], runs[1]


def test_same_seed_decodes_to_identical_frames(seed0_twice):
    first, second = seed0_twice
    assert len(first) == len(CLASSES) and first.keys() == second.keys()
    different = [name for name in first if not np.array_equal(first[name], second[name])]
    assert different == []


def test_another_seed_gives_other_videos(seed0_twice, tmp_path):
    synthesize_dataset(tmp_path, COUNTS, SynthConfig(seed=1), workers=1)
    other = _decoded(tmp_path)
    first, _ = seed0_twice
    assert other.keys() == first.keys()
    assert all(not np.array_equal(other[name], first[name]) for name in first)
