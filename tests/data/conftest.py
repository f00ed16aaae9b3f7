"""Fixtures of the data layer's tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def touch():
    """``touch(path) -> path``: a one-byte file (and its folders), for readers that only check a video exists."""

    def make(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        return path

    return make
