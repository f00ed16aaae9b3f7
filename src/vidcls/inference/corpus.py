"""A corpus of videos streamed through the model: which videos, in what order, decoded in parallel.

A run over a million paths never holds them: folders are walked lazily (each folder's entries
sorted, so the order is that of ``sorted(folder.rglob("*"))``) and a list file is read line by
line. The main process filters the stream (a shard's share, the videos a rerun already has) and
hands each path to a torch DataLoader as a map-style key: its workers decode and transform one
video's views each, and the loader gives them back in the order they were asked for, so results
come out in input order whatever the number of workers. Only ``workers × prefetch`` videos are
in flight at once.

A decoding process that dies (FFmpeg crashing on a file, the kernel killing it for memory) does not
end the run: :func:`decoded_views` decodes the videos that were in flight again one at a time, each
in a process of its own, so the one that kills its process is found and becomes an error entry,
and the run goes on with a fresh set of workers.

Several processes split a corpus as the data jobs split a dataset (:mod:`vidcls.datatools.shards`:
a hash of the video's path, modulo N): ``--shard I/N`` names the share, or a launcher's
environment does (torchrun's ``RANK``/``WORLD_SIZE``).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from vidcls.data.sources import is_video
from vidcls.datatools.shards import Shard
from vidcls.errors import DatasetError, VidclsError, VideoReadError, first_line

log = logging.getLogger(__name__)

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


WORKER_DIED = "DataLoader worker (pid"  # how each of PyTorch's messages on a dead worker process begins
DEATH_SIGNS = (RuntimeError, EOFError, ConnectionError)  # what a dead worker's loader raises (_worker_died tells which)
DIED_ON_IT = "its decoding process died on it (a crash in the decoder, or killed, e.g. for memory)"


def decoded_views(paths: Iterable[str | Path], make_views: ViewMaker, *, workers: int, pin_memory: bool,
                  batch_videos: int = 1, spawn: bool = False) -> Iterator[dict]:
    """:func:`view_loader`'s entries in the order of ``paths``, going on when one of its worker processes dies.

    The videos the loader had taken and not yet given back are the suspects: each is decoded again
    alone, in a worker of its own; the one whose worker dies again is an entry with an error, and a
    new loader takes the paths that follow. Results stay in input order.
    """
    options = dict(pin_memory=pin_memory, batch_videos=batch_videos, spawn=spawn)
    if not workers:
        yield from view_loader(paths, make_views, workers=0, **options)  # nothing to die but this process
        return
    stream = iter(paths)
    taken: deque[str] = deque()  # handed to the loader, its entry not given back yet

    def feed() -> Iterator[str]:
        for path in stream:
            taken.append(str(path))
            yield str(path)

    with _deaths_raised_by_the_loader():
        while True:
            try:
                for entry in view_loader(feed(), make_views, workers=workers, **options):
                    taken.popleft()
                    yield entry
                return
            except DEATH_SIGNS as error:
                if not _worker_died(error):
                    raise
                reason = first_line(error) or type(error).__name__
            # out of the except block: the dead loader (held by the error's traceback) shuts its other workers down
            suspects = list(taken)
            taken.clear()
            log.warning("a decoding process died (%s): the %d video(s) in flight from %s are decoded again, one at a time",
                        reason, len(suspects), suspects[0] if suspects else "-")
            for path in suspects:
                yield _alone(path, make_views, options)


def _alone(path: str, make_views: ViewMaker, options: dict) -> dict:
    """One video's entry from a worker of its own; an error entry if that worker dies."""
    try:
        for entry in view_loader([path], make_views, workers=1, **options):
            return entry
    except DEATH_SIGNS as error:
        if not _worker_died(error):
            raise
    return {"path": path, "views": None, "error": DIED_ON_IT}


def _worker_died(error: Exception) -> bool:
    """PyTorch's error for a dead worker, or an entry of a dead worker that can no longer be fetched.

    An entry's tensors cross as file descriptors that its worker hands over when asked: a worker
    that died after sending one leaves the receiving end with an EOFError or a refused connection.
    """
    return isinstance(error, (EOFError, ConnectionError)) or WORKER_DIED in str(error)


_readers = 0  # decoded_views now reading (nested or interleaved): PyTorch's handler is back when none is
_pytorch_handler = signal.SIG_DFL  # set aside while any is


@contextmanager
def _deaths_raised_by_the_loader() -> Iterator[None]:
    """While open, a dead worker is raised where a loader is read, not wherever this process happens to be.

    PyTorch's SIGCHLD handler (one for the process, set when the first loader starts its workers)
    raises a worker's death at once in the main thread, in whatever code runs there: a caller
    writing a row, the network. Set aside, the loader finds the worker gone within 5 s and raises
    from ``next``, where :func:`decoded_views` takes it up. It is set first, so that the first
    loader's workers do not bring it back.
    """
    global _readers, _pytorch_handler
    if not hasattr(signal, "SIGCHLD") or threading.current_thread() is not threading.main_thread():
        yield  # signal handlers are set from the main thread only
        return
    if _readers == 0:
        _install_pytorch_handler()
        _pytorch_handler = signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _readers += 1
    try:
        yield
    finally:
        _readers -= 1
        if _readers == 0 and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGCHLD, _pytorch_handler)


def _install_pytorch_handler() -> None:
    """PyTorch's SIGCHLD handler, as its loaders set it once per process (a no-op when it is set or unknown)."""
    from torch.utils.data._utils import signal_handling

    install = getattr(signal_handling, "_set_SIGCHLD_handler", None)  # private; present in torch 2.x
    if install is not None:
        install()


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
