"""The official annotation CSVs (Kinetics-400, -600, -700-2020), read into :class:`Clip` rows.

Train and val CSVs have the header ``label,youtube_id,time_start,time_end,split[,is_cc]``; the
test CSVs have no ``label``. Every bad row is refused with one line naming the file and line.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from vidcls.data.sources import SPLITS
from vidcls.errors import DatasetError

REQUIRED_COLUMNS = ("youtube_id", "time_start", "time_end", "split")
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]+")  # also keeps ids from naming paths ("../x", "a/b")
# Kinetics-400's validation CSV writes split "val"; Kinetics-700's "validate": one split, one folder name
SPLIT_ALIASES = {"validate": "val"}


@dataclass(frozen=True)
class Clip:
    """One CSV row: a segment of a YouTube video, its split, and its label (None: unlabelled test)."""

    youtube_id: str
    start: float
    end: float
    split: str
    label: str | None
    origin: str = field(compare=False)  # "file.csv:12", for error messages

    @property
    def filename(self) -> str:
        return f"{self.youtube_id}_{int(self.start):06d}_{int(self.end):06d}.mp4"


def clip_key(clip: Clip) -> str:
    """What decides a clip's shard: its segment of video, whatever its row, split or label."""
    return f"{clip.youtube_id} {clip.start:g} {clip.end:g}"


def clip_fields(clip: Clip) -> dict[str, str]:
    """The clip as the CSV columns it came from (times as written, no label: empty): a report row's first columns."""
    return {
        "youtube_id": clip.youtube_id,
        "time_start": f"{clip.start:g}",
        "time_end": f"{clip.end:g}",
        "split": clip.split,
        "label": clip.label or "",
    }


def read_kinetics_csv(path: str | Path) -> list[Clip]:
    """Read an official CSV: ``label,youtube_id,time_start,time_end,split[,is_cc]``, test without ``label``."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such CSV file")
    clips = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [name for name in REQUIRED_COLUMNS if name not in (reader.fieldnames or ())]
            if missing:
                raise DatasetError(
                    f"{path}:1: not a Kinetics CSV: header lacks {', '.join(missing)} "
                    "(expected label,youtube_id,time_start,time_end,split[,is_cc])"
                )
            labelled = "label" in reader.fieldnames
            for row in reader:
                clips.append(_clip(row, labelled, f"{path}:{reader.line_num}"))
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text") from None
    if not clips:
        raise DatasetError(f"{path}: CSV lists no clips")
    return clips


def _clip(row: dict[str, str | None], labelled: bool, origin: str) -> Clip:
    value = {name: (text or "").strip() for name, text in row.items() if name is not None}
    youtube_id, split = value["youtube_id"], SPLIT_ALIASES.get(value["split"], value["split"])
    if not _YOUTUBE_ID.fullmatch(youtube_id):
        raise DatasetError(f"{origin}: bad youtube_id {youtube_id!r}")
    try:
        start, end = float(value["time_start"]), float(value["time_end"])
    except ValueError:
        raise DatasetError(f"{origin}: time_start and time_end must be numbers of seconds") from None
    if not (math.isfinite(end) and 0 <= start < end):
        raise DatasetError(f"{origin}: need 0 <= time_start < time_end, got {start:g} and {end:g}")
    if split not in SPLITS:
        raise DatasetError(f"{origin}: split must be one of {', '.join(SPLITS)}, got {split!r}")
    label = value["label"] if labelled else None
    if label is not None and (not label or "\n" in label or "\r" in label):
        raise DatasetError(f"{origin}: label must be one non-empty line, got {label!r}")
    return Clip(youtube_id, start, end, split, label, origin)
