"""Kinetics 400/600/700: read the official CSVs, lay clips out as class folders, index existing copies.

A clip lives at ``DIR/<split>/<label folder>/<youtube_id>_<start:06d>_<end:06d>.mp4`` (the
crawler's and the CVDF mirror's file name); unlabelled test clips sit in ``DIR/test/`` itself.
Labels such as "massaging person's head" are not safe folder names, so folders are sanitised
and the exact labels are kept beside them:

- ``DIR/classes.txt``: the exact labels, sorted: the class index order (``--data.classes``).
- ``DIR/classes.csv``: ``folder,label``, so a folder name always leads back to its label.
- ``DIR/<split>.csv``: ``path,label`` of the finished clips with their exact labels
  (``--data.train_list`` / ``--data.val_list``); unlabelled splits get no list.
- ``DIR/download_report.csv``: the last status of every clip (see :class:`Report`).

A run with a :class:`~vidcls.datatools.shards.Shard` handles only its share of the clips and
writes only ``DIR/download_report.I-of-N.csv`` and ``.json`` (its statuses; what it read and
whether it ran to its end); :func:`merge_shards` then writes the files above from them, as one
unsharded run writes them.

Train with ``vidcls fit ... --data.train_list DIR/train.csv --data.val_list DIR/val.csv
--data.classes DIR/classes.txt``. Downloading is in :mod:`vidcls.datatools.download`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from vidcls.data.sources import SPLITS
from vidcls.datatools.shards import Shard, check_complete, select, shard_file, shard_files
from vidcls.errors import DatasetError
from vidcls.io import write_text_atomic

REQUIRED_COLUMNS = ("youtube_id", "time_start", "time_end", "split")
REPORT_NAME = "download_report.csv"
SHARD_STATE_NAME = "download_report.json"  # a shard's: the digest of the CSVs' clips, and whether it ran to its end
REPORT_FIELDS = ("youtube_id", "time_start", "time_end", "split", "label", "status", "error")
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]+")  # also keeps ids from naming paths ("../x", "a/b")
_SAFE_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


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
    youtube_id, split = value["youtube_id"], value["split"]
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


def label_folder(label: str) -> str:
    """A folder name for a label that cannot escape DIR: ASCII letters, digits, ``_`` and ``-``.

    Apostrophes, quotes and parentheses are dropped, other runs of characters become ``_``:
    "massaging person's head" -> ``massaging_persons_head``, "hurling (sport)" -> ``hurling_sport``.
    """
    name = re.sub(r"[^A-Za-z0-9-]+", "_", re.sub(r"['\"()]", "", label)).strip("_-")
    return name or f"label_{_digest(label)}"


def _digest(label: str) -> str:
    return hashlib.sha1(label.encode("utf-8")).hexdigest()[:8]


def assign_folders(labels: Iterable[str], known: dict[str, str] | None = None) -> dict[str, str]:
    """Label -> folder for every label: ``known`` ones keep theirs, two labels never share one."""
    folders = dict(known or {})
    taken = set(folders.values())
    for label in sorted(set(labels) - folders.keys()):
        name = label_folder(label)
        if name in taken:  # "a b" and "a_b": the later one gets a suffix from its exact text
            name = f"{name}_{_digest(label)}"
        folders[label] = name
        taken.add(name)
    return folders


def read_classes_csv(path: Path) -> dict[str, str]:
    """The label -> folder map written by an earlier run, so reruns keep the same folders."""
    folders = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if set(reader.fieldnames or ()) != {"folder", "label"}:
            raise DatasetError(f"{path}:1: header must be folder,label")
        for row in reader:
            folder, label = row["folder"] or "", row["label"] or ""
            if not _SAFE_FOLDER.fullmatch(folder) or not label:
                raise DatasetError(f"{path}:{reader.line_num}: unsafe folder {folder!r} or empty label")
            folders[label] = folder
    if len(set(folders.values())) != len(folders):
        raise DatasetError(f"{path}: two labels share a folder")
    return folders


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
    digest = hashlib.sha256("\n".join(sorted("\t".join(_row_key(_row(c))) for c in clips)).encode()).hexdigest()
    return KineticsPlan(out, select(clips, clip_key, shard), folders, shard, digest)


def write_classes(plan: KineticsPlan) -> None:
    """``classes.txt`` (exact labels, sorted = class index order) and ``classes.csv`` (folder,label)."""
    if not plan.folders:
        return
    labels = sorted(plan.folders)
    write_text_atomic(plan.out / "classes.txt", "".join(f"{label}\n" for label in labels))
    write_text_atomic(plan.out / "classes.csv", _csv_text(("folder", "label"), [(plan.folders[lb], lb) for lb in labels]))


def write_lists(plan: KineticsPlan) -> None:
    """``DIR/<split>.csv`` (path,label) of the finished clips of each labelled split: what training reads."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for clip in plan.clips:
        if clip.label is not None:
            split_rows = rows.setdefault(clip.split, [])
            if plan.is_finished(clip):
                split_rows.append((plan.path(clip).relative_to(plan.out).as_posix(), clip.label))
    for split, split_rows in rows.items():
        write_text_atomic(plan.out / f"{split}.csv", _csv_text(("path", "label"), split_rows))


class Report:
    """``DIR/download_report.csv`` (a shard's own, sharded): the last status of every clip, kept across runs.

    Statuses: downloaded, linked (ingested), unavailable, failed, missing (not in the copy),
    pending (not tried yet). Rows are appended as clips finish, so an interrupted run loses
    nothing; leaving the ``with`` block rewrites the file with one row per clip.
    """

    def __init__(self, plan: KineticsPlan):
        self.plan = plan
        self.path = plan.report_path
        self.rows = _read_report(self.path) if self.path.is_file() else {}

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
        write_text_atomic(self.path, _csv_text(REPORT_FIELDS, rows))


def _read_report(path: Path) -> dict[tuple[str, ...], dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {_row_key(row): row for row in csv.DictReader(handle)}


def _row(clip: Clip, status: str = "", error: str = "") -> dict[str, str]:
    return {
        "youtube_id": clip.youtube_id,
        "time_start": f"{clip.start:g}",
        "time_end": f"{clip.end:g}",
        "split": clip.split,
        "label": clip.label or "",
        "status": status,
        "error": error,
    }


def _row_key(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(row.get(name) or "" for name in REPORT_FIELDS[:5])


@contextmanager
def recording(plan: KineticsPlan) -> Iterator[Report]:
    """The files of a run around its work on the clips: the classes before, the report during, the lists after.

    A shard writes only files of its own: its report, and its state before and after (what it
    read, whether it ran to its end), which :func:`merge_shards` checks.
    """
    if plan.shard is None:
        write_classes(plan)
    else:
        _write_state(plan, finished=False)
    with Report(plan) as report:
        yield report
    if plan.shard is None:
        write_lists(plan)
    else:
        _write_state(plan, finished=True)


def _write_state(plan: KineticsPlan, finished: bool) -> None:
    state = {"shard": str(plan.shard), "digest": plan.digest, "finished": finished}
    write_text_atomic(shard_file(plan.out / SHARD_STATE_NAME, plan.shard), json.dumps(state) + "\n")


def _read_state(path: Path) -> dict:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return {"digest": str(state["digest"]), "finished": state["finished"] is True}
    except (ValueError, KeyError, TypeError) as error:
        raise DatasetError(f"{path}: not a shard state file ({error})") from None


def merge_shards(plan: KineticsPlan) -> Counter[str]:
    """Write the classes, lists and report one unsharded run writes, from the shards' reports; fetch nothing.

    Refuses with one line naming the shards that are missing, unfinished or read other CSVs.
    """
    states = shard_files(plan.out / SHARD_STATE_NAME)
    reports = {shard: shard_file(plan.out / REPORT_NAME, shard) for shard in states}
    read = {shard: _read_state(path) for shard, path in states.items() if path and reports[shard].is_file()}
    check_complete(plan.out, {
        "missing": [shard for shard in states if shard not in read],
        "that read other CSVs": [shard for shard, state in read.items() if state["digest"] != plan.digest],
        "unfinished (rerun them)": [shard for shard, state in read.items() if not state["finished"]],
    })
    report = Report(plan)  # rows of earlier unsharded runs, updated by the shards' rows
    for path in reports.values():
        report.rows.update(_read_report(path))
    write_classes(plan)
    report.write()
    write_lists(plan)
    return report.counts()


def ingest(plan: KineticsPlan, from_dir: str | Path) -> Counter[str]:
    """Lay out an existing copy (CVDF mirror: ``<id>_<start>_<end>.mp4`` in flat folders) with symlinks.

    No video bytes are copied; clips with no file are reported as ``missing``.
    """
    from_dir = Path(from_dir)
    if not from_dir.is_dir():
        raise DatasetError(f"{from_dir}: no such folder")
    originals = {path.name: path.resolve() for path in from_dir.rglob("*.mp4")}
    with recording(plan) as report:
        for clip in plan.clips:
            dest, source = plan.path(clip), originals.get(clip.filename)
            if not plan.is_finished(clip) and source is not None:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.unlink(missing_ok=True)  # a link left dangling by a moved copy
                dest.symlink_to(source)
            if plan.is_finished(clip):
                report.record(clip, "linked" if dest.is_symlink() else "downloaded")
            else:
                report.record(clip, "missing", f"no {clip.filename} under {from_dir}")
    return report.counts()


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()

