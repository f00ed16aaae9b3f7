"""Split a dataset job into N shards that a scheduler runs at once (SLURM job arrays, Kubernetes indexed jobs).

A shard owns an item when a hash of the item's identity (a Kinetics clip's id and times, a
video's path relative to its dataset) modulo N is the shard's index. So the same item lands in
the same shard whatever the order of the CSV rows or of the file listing, and N tasks agree on
the split without talking to each other. Every file a shard writes carries its name
(``manifest.csv`` -> ``manifest.2-of-8.csv``), so N tasks can share a folder; a merge finds
them again with :func:`shard_files`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from vidcls.errors import DatasetError, VidclsError

Item = TypeVar("Item")


@dataclass(frozen=True, order=True)
class Shard:
    """Shard ``index`` of ``count``, numbered from 0 like ``$SLURM_ARRAY_TASK_ID`` and ``$JOB_COMPLETION_INDEX``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def of(cls, key: str, count: int) -> Shard:
        """The shard of ``count`` that owns the item named ``key``."""
        # a hash of the key, not Python's hash(): that one changes with every process (PYTHONHASHSEED)
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
        return cls(int.from_bytes(digest, "big") % count, count)

    def owns(self, key: str) -> bool:
        return Shard.of(key, self.count) == self


def parse_shard(text: str) -> Shard:
    """``"I/N"`` -> ``Shard(I, N)``, with ``0 <= I < N``; anything else is a one-line :class:`VidclsError`."""
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match:
        raise VidclsError(f"shard {text!r}: expected I/N, e.g. 0/8 (shard I of N, numbered from 0)")
    index, count = int(match[1]), int(match[2])
    if count < 1:
        raise VidclsError(f"shard {text}: N must be at least 1")
    if index >= count:
        raise VidclsError(f"shard {text}: I must be below N (shards are numbered 0 to {count - 1})")
    return Shard(index, count)


def select(items: Iterable[Item], key: Callable[[Item], str], shard: Shard | None) -> list[Item]:
    """The items ``shard`` owns, in their order; all of them for an unsharded run (``shard`` None)."""
    return [item for item in items if shard is None or shard.owns(key(item))]


def shard_file(path: Path, shard: Shard | None) -> Path:
    """The file a shard writes in place of ``path`` (``report.csv`` -> ``report.2-of-8.csv``); ``path`` unsharded."""
    if shard is None:
        return path
    return path.with_name(f"{path.stem}.{shard.index}-of-{shard.count}{path.suffix}")


def shard_files(path: Path) -> dict[Shard, Path | None]:
    """Every shard of the run that wrote ``shard_file(path, ...)`` files, with its file (None: missing).

    One run's shards all have the same N: files of two different N (an earlier run split
    otherwise) are an error, never silently mixed.
    """
    name = re.compile(rf"{re.escape(path.stem)}\.(\d+)-of-(\d+){re.escape(path.suffix)}")
    found = {}
    for candidate in path.parent.glob(f"{path.stem}.*-of-*{path.suffix}"):
        match = name.fullmatch(candidate.name)
        if match and int(match[1]) < int(match[2]):
            found[Shard(int(match[1]), int(match[2]))] = candidate
    if not found:
        raise DatasetError(f"{path.parent}: no shard files {path.stem}.I-of-N{path.suffix} to merge")
    counts = sorted({shard.count for shard in found})
    if len(counts) > 1:
        runs = ", ".join(f"{sum(s.count == n for s in found)} of N={n}" for n in counts)
        raise DatasetError(
            f"{path.parent}: {path.stem} shards of runs with different N ({runs}); remove the files of the run you do not want"
        )
    return {Shard(index, counts[0]): found.get(Shard(index, counts[0])) for index in range(counts[0])}


def check_complete(where: Path, problems: Mapping[str, Iterable[Shard]]) -> None:
    """Refuse a partial merge: one line naming each shard that is missing, unfinished or from another run."""
    named = {reason: sorted(shards) for reason, shards in problems.items()}
    parts = [f"{reason}: {' '.join(map(str, shards))}" for reason, shards in named.items() if shards]
    if parts:
        raise DatasetError(f"{where}: cannot merge, shards {'; '.join(parts)}")
