"""Resumable prediction files: JSON lines written as each video finishes, and its features beside them.

A row is one JSON object per line (``{"path": ..., "predictions": [...]}`` or ``{"path": ...,
"error": ...}``), flushed as soon as it is written, so a killed run loses at most the line it
was writing. Opening the file again finds the videos it already has (a rerun skips them) and
cuts off a last line the kill left unfinished.

Features go to a ``.npy`` file that numpy reads directly (``np.load``), one float32 row per video
that was read, and its index ``<stem>.paths.txt`` beside it (the row's video path per line).
Row ``i`` of the features is the ``i``-th row of the JSON lines without an error: a rerun
trims a features row the kill left without its JSON line, so no video has two. The ``.npy``
header is rewritten in place after every row (numpy leaves room in it for the row count to grow).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

import numpy as np
import torch

from vidcls.errors import DatasetError

NPY_FORMAT = (1, 0)


def index_path(features: Path) -> Path:
    """The paths file beside a features file: ``feats.npy`` → ``feats.paths.txt``."""
    return features.with_name(f"{features.stem}.paths.txt")


class PredictionWriter:
    """Appends rows to ``output`` (and features to ``features``), after what an earlier run left there.

    ``done`` holds the paths already there (about a hundred bytes each); ``read_ok`` counts the
    rows without an error.
    """

    def __init__(self, output: str | Path, features: str | Path | None = None):
        self.output = Path(output)
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.done: set[str] = set()
        self.read_ok = 0
        if self.output.exists():
            self._resume()
        self._rows = self.output.open("a", encoding="utf-8")
        self._features = _FeatureRows(Path(features), self.read_ok) if features else None

    def _resume(self) -> None:
        kept = 0
        with self.output.open("rb") as lines:
            for line_no, line in enumerate(lines, start=1):
                if not line.endswith(b"\n"):  # a kill's unfinished last line: written again
                    break
                try:
                    row = json.loads(line)
                    path = row["path"]
                except (ValueError, KeyError, TypeError) as error:
                    raise DatasetError(f"{self.output}:{line_no}: not a prediction row ({error}); "
                                       "give another --output or remove the file") from error
                self.done.add(path)
                self.read_ok += "error" not in row
                kept += len(line)
        with self.output.open("r+b") as file:
            file.truncate(kept)

    def write(self, row: dict, features: torch.Tensor | None = None) -> None:
        """One video's row (features first: a kill between the two leaves a features row that a rerun trims)."""
        if self._features is not None and "error" not in row:
            if features is None:
                raise ValueError(f"{row['path']}: a row without an error needs its features")
            self._features.append(row["path"], features)
        self._rows.write(json.dumps(row) + "\n")
        self._rows.flush()

    def close(self) -> None:
        self._rows.close()
        if self._features is not None:
            self._features.close()

    def __enter__(self) -> PredictionWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _FeatureRows:
    """A growing ``N×D`` float32 ``.npy`` and its paths file, kept at ``rows`` rows when reopened."""

    def __init__(self, path: Path, rows: int):
        self.path, self.index = path, index_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows, self.size = 0, None
        self._array: IO[bytes] | None = None
        self._paths: IO[str] | None = None
        if rows:  # else the files are (re)made by the first row
            self._reopen(rows)

    def _reopen(self, rows: int) -> None:
        """Keep the first ``rows`` rows (those whose JSON line was written); fewer is an error."""
        found = start = 0
        if self.path.exists() and self.index.exists():
            with self.path.open("rb") as array:
                np.lib.format.read_magic(array)
                shape, _, _ = np.lib.format.read_array_header_1_0(array)
                self.size, start = shape[1], array.tell()
            found = min(self.index.read_text(encoding="utf-8").count("\n"),
                        (self.path.stat().st_size - start) // (4 * self.size))
        if found < rows:
            raise DatasetError(f"{self.path}: {found} feature rows for {rows} predictions already written; "
                               "remove both files, or give another --output and --features")
        with self.index.open("r+", encoding="utf-8") as paths:
            kept = sum(len(line.encode()) for _, line in zip(range(rows), paths))
            paths.truncate(kept)
        self._array = self.path.open("r+b")
        self._array.truncate(start + 4 * self.size * rows)
        self._paths = self.index.open("a", encoding="utf-8")
        self.rows = rows
        self._write_header()

    def append(self, path: str, features: torch.Tensor) -> None:
        values = features.detach().float().cpu().numpy().astype("<f4", copy=False).reshape(-1)
        if self._array is None:
            self.size = len(values)
            self._array, self._paths = self.path.open("w+b"), self.index.open("w", encoding="utf-8")
            self._write_header()
        if len(values) != self.size:
            raise ValueError(f"{path}: {len(values)} features, the file's rows have {self.size}")
        self._array.write(values.tobytes())
        self._paths.write(path + "\n")
        self.rows += 1
        self._write_header()
        self._paths.flush()

    def _write_header(self) -> None:
        """The header with the current row count, in place (numpy pads it so the count can grow); then on to the end."""
        self._array.seek(0)
        np.lib.format.write_array_header_1_0(
            self._array, {"descr": "<f4", "fortran_order": False, "shape": (self.rows, self.size)})
        self._array.seek(0, 2)
        self._array.flush()

    def close(self) -> None:
        for file in (self._array, self._paths):
            if file is not None:
                file.close()
