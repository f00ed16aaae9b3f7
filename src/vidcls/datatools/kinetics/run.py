"""The files of a run around its work on the clips, and the merge of sharded runs into the files of one.

An unsharded run writes the classes before, the report during and the lists after its work. A
shard writes only files of its own: its report, and ``DIR/download_report.I-of-N.json`` before and
after (the digest of the clips it read, whether it ran to its end), which :func:`merge_shards` checks.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vidcls.datatools.kinetics.lists import write_classes, write_lists
from vidcls.datatools.kinetics.plan import REPORT_NAME, KineticsPlan
from vidcls.datatools.kinetics.report import Report, read_report
from vidcls.datatools.shards import check_complete, shard_file, shard_files
from vidcls.errors import DatasetError
from vidcls.io import write_text_atomic

SHARD_STATE_NAME = "download_report.json"  # a shard's: the digest of the CSVs' clips, and whether it ran to its end


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
        report.rows.update(read_report(path))
    write_classes(plan)
    report.write()
    write_lists(plan)
    return report.counts()
