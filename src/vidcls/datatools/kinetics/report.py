"""``DIR/download_report.csv``: the last status of every clip, kept across runs and interruptions."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from vidcls.datatools.kinetics.clips import Clip, clip_fields
from vidcls.datatools.kinetics.lists import csv_text
from vidcls.datatools.kinetics.plan import KineticsPlan
from vidcls.io import write_text_atomic

REPORT_FIELDS = ("youtube_id", "time_start", "time_end", "split", "label", "status", "error")


class Report:
    """``DIR/download_report.csv`` (a shard's own, sharded): the last status of every clip, kept across runs.

    Statuses: downloaded, linked (ingested), unavailable, failed, missing (not in the copy),
    pending (not tried yet). Rows are appended as clips finish, so an interrupted run loses
    nothing; leaving the ``with`` block rewrites the file with one row per clip.
    """

    def __init__(self, plan: KineticsPlan):
        self.plan = plan
        self.path = plan.report_path
        self.rows = read_report(self.path) if self.path.is_file() else {}

    def __enter__(self) -> Report:
        self.plan.out.mkdir(parents=True, exist_ok=True)
        new = not self.path.is_file()
        self._handle = self.path.open("a", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._handle, REPORT_FIELDS)
        if new:
            self._writer.writeheader()
        return self

    def status(self, clip: Clip) -> str | None:
        row = self.rows.get(_row_key(_row(clip)))
        return row["status"] if row else None

    def record(self, clip: Clip, status: str, error: str = "") -> None:
        row = _row(clip, status, error)
        self.rows[_row_key(row)] = row
        self._writer.writerow(row)
        self._handle.flush()

    def counts(self) -> Counter[str]:
        """How many of the plan's clips have each status."""
        return Counter(self.status(clip) for clip in self.plan.clips)

    def __exit__(self, *exc_info: object) -> None:
        self._handle.close()
        self.write()

    def write(self) -> None:
        """Rewrite the file, one row per clip: the plan's in CSV order, then other clips of earlier runs, sorted.

        The order depends on nothing but the rows, never on which download finished first, so a
        merge of shards writes the file an unsharded run writes.
        """
        for clip in self.plan.clips:
            if self.status(clip) is None:
                row = _row(clip, "downloaded" if self.plan.is_finished(clip) else "pending")
                self.rows[_row_key(row)] = row
        position = {_row_key(_row(clip)): i for i, clip in enumerate(self.plan.clips)}
        keys = sorted(self.rows, key=lambda key: (position.get(key, len(position)), key))
        rows = [[self.rows[key].get(name, "") for name in REPORT_FIELDS] for key in keys]
        write_text_atomic(self.path, csv_text(REPORT_FIELDS, rows))


def read_report(path: Path) -> dict[tuple[str, ...], dict[str, str]]:
    """A report's rows by clip (its CSV columns), the last row of a clip winning: what :class:`Report` keeps."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {_row_key(row): row for row in csv.DictReader(handle)}


def _row(clip: Clip, status: str = "", error: str = "") -> dict[str, str]:
    return {**clip_fields(clip), "status": status, "error": error}


def _row_key(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(row.get(name) or "" for name in REPORT_FIELDS[:5])
