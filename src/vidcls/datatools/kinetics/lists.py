"""The files training reads: ``classes.txt`` (the class index order), ``classes.csv`` and the split lists."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from vidcls.datatools.kinetics.plan import KineticsPlan
from vidcls.io import write_text_atomic


def write_classes(plan: KineticsPlan) -> None:
    """``classes.txt`` (exact labels, sorted = class index order) and ``classes.csv`` (folder,label)."""
    if not plan.folders:
        return
    labels = sorted(plan.folders)
    write_text_atomic(plan.out / "classes.txt", "".join(f"{label}\n" for label in labels))
    write_text_atomic(plan.out / "classes.csv", csv_text(("folder", "label"), [(plan.folders[lb], lb) for lb in labels]))


def write_lists(plan: KineticsPlan) -> None:
    """``DIR/<split>.csv`` (path,label) of the finished clips of each labelled split: what training reads."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for clip in plan.clips:
        if clip.label is not None:
            split_rows = rows.setdefault(clip.split, [])
            if plan.is_finished(clip):
                split_rows.append((plan.path(clip).relative_to(plan.out).as_posix(), clip.label))
    for split, split_rows in rows.items():
        write_text_atomic(plan.out / f"{split}.csv", csv_text(("path", "label"), split_rows))


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A CSV file's text (``\\n`` line ends), to be written in one atomic replace."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
