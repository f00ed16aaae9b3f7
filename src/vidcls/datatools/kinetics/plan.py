"""The plan of a run: the clips to have under ``DIR`` (a shard's share of them), where each goes, what is there."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vidcls.data.sources import SPLITS
from vidcls.datatools.kinetics.clips import Clip, clip_fields, clip_key, read_kinetics_csv
from vidcls.datatools.kinetics.folders import assign_folders, read_classes_csv
from vidcls.datatools.shards import Shard, select, shard_file

REPORT_NAME = "download_report.csv"


@dataclass
class KineticsPlan:
    """The clips to have under ``out`` (a shard's share of them) and the folder of every label."""

    out: Path
    clips: list[Clip]
    folders: dict[str, str]  # exact label -> folder name, including labels of earlier runs
    shard: Shard | None = None
    digest: str = ""  # of every clip the CSVs list: a merge checks that all shards read the same CSVs

    @property
    def report_path(self) -> Path:
        return shard_file(self.out / REPORT_NAME, self.shard)

    def path(self, clip: Clip) -> Path:
        split_dir = self.out / clip.split
        return split_dir / clip.filename if clip.label is None else split_dir / self.folders[clip.label] / clip.filename

    def is_finished(self, clip: Clip) -> bool:
        """A clip is finished when its file is there and not empty (partial files have other names)."""
        try:
            return self.path(clip).stat().st_size > 0
        except OSError:
            return False

    def summary(self) -> dict:
        """Clips, classes and finished clips per split, for ``--dry-run``."""
        finished = set(filter(self.is_finished, self.clips)) if self.out.is_dir() else set()
        by_split = {split: [clip for clip in self.clips if clip.split == split] for split in SPLITS}
        splits = {split: _counts(clips, finished) for split, clips in by_split.items() if clips}
        shard = {"shard": str(self.shard)} if self.shard else {}
        return {"out": str(self.out), **shard, "splits": splits, "total": _counts(self.clips, finished)}


def _counts(clips: Sequence[Clip], finished: set[Clip]) -> dict[str, int]:
    labels = {clip.label for clip in clips if clip.label is not None}
    return {"clips": len(clips), "classes": len(labels), "finished": len(finished.intersection(clips))}


def format_summary(summary: dict) -> str:
    """The dry-run plan as a small table."""
    rows = [("split", "clips", "classes", "finished")]
    rows += [(name, *map(str, counts.values())) for name, counts in summary["splits"].items()]
    rows.append(("total", *map(str, summary["total"].values())))
    table = "\n".join(f"{a:<8}{b:>8}{c:>9}{d:>10}" for a, b, c, d in rows)
    shard = f" (shard {summary['shard']})" if "shard" in summary else ""
    return f"{summary['out']}{shard}\n{table}"


def plan_kinetics(csv_files: Sequence[str | Path], out: str | Path, shard: Shard | None = None) -> KineticsPlan:
    """Read the CSVs (repeated clips count once) and choose folders, reusing ``out/classes.csv``.

    With ``shard``, the plan holds only that shard's clips; folders are still chosen from every
    label, so all shards, and the merge, agree on them.
    """
    out = Path(out)
    clips, seen = [], set()
    for csv_file in csv_files:
        for clip in read_kinetics_csv(csv_file):
            if clip not in seen:
                seen.add(clip)
                clips.append(clip)
    known = read_classes_csv(out / "classes.csv") if (out / "classes.csv").is_file() else {}
    folders = assign_folders({c.label for c in clips if c.label is not None}, known)
    digest = hashlib.sha256("\n".join(sorted("\t".join(clip_fields(c).values()) for c in clips)).encode()).hexdigest()
    return KineticsPlan(out, select(clips, clip_key, shard), folders, shard, digest)
