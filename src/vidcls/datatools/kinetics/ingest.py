"""Lay out an existing copy of Kinetics (the CVDF mirror's flat folders) as a download would, with symlinks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from vidcls.datatools.kinetics.plan import KineticsPlan
from vidcls.datatools.kinetics.run import recording
from vidcls.errors import DatasetError


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
