"""A corpus of videos streamed through the model: which videos, in what order, decoded in parallel.

A run over a million paths never holds them: folders are walked lazily (each folder's entries
sorted, so the order is that of ``sorted(folder.rglob("*"))``) and a list file is read line by
line. The main process filters the stream (a shard's share, the videos a rerun already has) and
hands each path to a torch DataLoader as a map-style key: its workers decode and transform one
video's views each, and the loader gives them back in the order they were asked for, so results
come out in input order whatever the number of workers. Only ``workers × prefetch`` videos are
in flight at once.

Several processes split a corpus as the data jobs split a dataset (:mod:`vidcls.datatools.shards`:
a hash of the video's path, modulo N): ``--shard I/N`` names the share, or a launcher's
environment does (torchrun's ``RANK``/``WORLD_SIZE``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Container, Iterable, Iterator
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from vidcls.data.sources import is_video
from vidcls.datatools.shards import Shard
from vidcls.errors import DatasetError, VidclsError, VideoReadError

ViewMaker = Callable[[str], torch.Tensor]  # path → clips×crops×T×C×H×W (uint8)


def walk_videos(given: str | Path) -> Iterator[str]:
    """The video files below a folder in sorted order, lazily; a file (or a folder without videos) as itself.

    What is not a video file is passed on as it is: reading it fails with a one-line reason,
    which becomes that entry's error, and the run goes on.
    """
    found = False
    if Path(given).is_dir():
        for path in _sorted_walk(Path(given)):
            found = True
            yield str(path)
    if not found:
        yield str(given)


def _sorted_walk(folder: Path) -> Iterator[Path]:
    """Depth first, each folder's entries sorted by name: ``sorted(rglob)``'s order holding one folder at a time."""
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            yield from _sorted_walk(entry)
        elif is_video(entry):
            yield entry


def read_path_list(list_file: str | Path) -> Iterator[str]:
    """Video paths from a text file, one per line, read lazily; relative paths are relative to the file's folder.

    Blank lines and ``#`` comments are skipped, as in the data commands' list files.
    """
    list_file = Path(list_file)
    if not list_file.is_file():
        raise DatasetError(f"{list_file}: no such list file")
    with list_file.open(encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line if Path(line).is_absolute() else str(list_file.parent / line)


def corpus(paths: Iterable[str | Path], *, shard: Shard | None = None, skip: Container[str] = ()) -> Iterator[str]:
    """The videos of ``paths`` (files and folders, walked lazily) that ``shard`` owns and ``skip`` lacks, in order."""
    for given in paths:
        for path in walk_videos(given):
            if (shard is None or shard.owns(path)) and path not in skip:
                yield path


def launcher_shard() -> Shard | None:
    """This process's share when a launcher started several (torchrun, ``srun``: ``RANK`` of ``WORLD_SIZE``), else None."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    rank = int(os.environ.get("RANK", "-1"))
    if not 0 <= rank < world:
        raise VidclsError(f"WORLD_SIZE={world} but RANK={os.environ.get('RANK')}: a launcher sets both")
    return Shard(rank, world)


def local_processes() -> int:
    """Processes the launcher started on this machine (they share its cores and GPUs); 1 without a launcher."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", "1"))


class VideoViews(Dataset):
    """Key → one video's views: ``{"path", "views": clips×crops×T×C×H×W or None, "error": reason or None}``.

    The keys are the paths themselves (the loader's sampler is the streamed path list), so no
    index of the corpus is ever built. A video that cannot be read is an entry with its reason.
    """

    def __init__(self, make_views: ViewMaker):
        self.make_views = make_views

    def __getitem__(self, path: str) -> dict:
        try:
            return {"path": path, "views": self.make_views(path), "error": None}
        except VideoReadError as error:
            return {"path": path, "views": None, "error": error.reason}


class _Keys:
    """The sampler: the path stream, iterated once."""

    def __init__(self, paths: Iterable[str | Path]):
        self.paths = paths

    def __iter__(self) -> Iterator[str]:
        return (str(path) for path in self.paths)


def view_loader(paths: Iterable[str | Path], make_views: ViewMaker, *, workers: int, pin_memory: bool,
                batch_videos: int = 1, spawn: bool = False) -> DataLoader:
    """Each video's views in the order of ``paths``, decoded by ``workers`` processes (0: in this one).

    ``batch_videos``: the videos one network batch takes. The workers keep that many videos and one
    more each decoded ahead, so they go on decoding while the network runs a batch (with PyTorch's
    default of two each, a batch of 8 videos and 2 workers left the workers idle while the network
    ran, then the network idle while they caught up: 12.4 against 13.5 videos/s on 2 cores).
    ``spawn``: start the workers afresh rather than forked, as decoding on a GPU needs (CUDA cannot start in a fork).
    """
    return DataLoader(
        VideoViews(make_views),
        batch_size=None,  # one video per item: its views are batched with other videos' by the caller
        sampler=_Keys(paths),
        num_workers=workers,
        pin_memory=pin_memory,
        prefetch_factor=max(-(-batch_videos // workers) + 1, 2) if workers else None,
        multiprocessing_context="spawn" if spawn and workers else None,
    )
