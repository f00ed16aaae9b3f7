"""Fixtures of the inference tests: `vidcls predict` run in this process, and a few test videos to score."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vidcls.cli import main


@pytest.fixture
def run_predict(capsys):
    """``run_predict(*args) -> (exit status, stdout, stderr)`` of `vidcls predict ARGS` in this process."""

    def run(*args) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_:
            main(["predict", *map(str, args)])
        captured = capsys.readouterr()
        return exit_.value.code, captured.out, captured.err

    return run


@pytest.fixture
def corpus_dir(synth_root: Path, tmp_path: Path) -> Path:
    """A folder of 8 test videos in two subfolders and one unreadable file among them (``b/broken.mp4``)."""
    folder = tmp_path / "corpus"
    for i, source in enumerate(sorted((synth_root / "test").rglob("*.mp4"))[:8]):
        target = folder / ("a" if i < 4 else "b") / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    (folder / "b" / "broken.mp4").write_bytes(b"not a video" * 100)
    return folder
