"""Small helpers every layer needs: atomic writes, checkpoint reading that never runs code, the cores a process may use, malloc for long runs."""

from __future__ import annotations

import ctypes
import os
import pickle
import platform
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from vidcls.errors import VidclsError, first_line


def partial_path(path: str | Path) -> Path:
    """The hidden sibling a file is written to before it is renamed into place (same suffix, for tools that care)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.partial{path.suffix}")


@contextmanager
def atomic_writer(path: str | Path, newline: str | None = None) -> Iterator[IO[str]]:
    """Write text beside ``path`` and rename it into place: a reader, or a rerun, never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(path)
    try:
        with partial.open("w", newline=newline, encoding="utf-8") as handle:
            yield handle
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_writer(path) as handle:
        handle.write(text)


def load_file(path: str | Path, mmap: bool = False) -> object:
    """``torch.load`` for a file from anywhere: tensors and plain data only; code is never unpickled.

    ``mmap``: leave the tensors on disk until used (to read a large checkpoint's hyperparameters).
    """
    import torch

    mmap = mmap and zipfile.is_zipfile(path)  # torch maps only its zip format; anything else gets the plain refusal
    return load_safely(lambda: torch.load(path, map_location="cpu", weights_only=True, mmap=mmap), str(path))


def load_safely(load: Callable[[], object], where: str) -> object:
    """Run a ``weights_only`` load, turning its failures into one line that names ``where``."""
    try:
        return load()
    except pickle.UnpicklingError as error:  # its message suggests weights_only=False: never here
        raise VidclsError(f"{where}: not a checkpoint, or one holding objects other than weights; refused (never unpickled)") from error
    except Exception as error:  # a bad zip (RuntimeError), an empty file (EOFError), no network (URLError)...
        raise VidclsError(f"{where}: not a checkpoint, or unreadable ({first_line(error)})") from error


def available_cores() -> int:
    """Cores this process may run on (a container's or a scheduler's limit), not the machine's count."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc's malloc.h


def keep_freed_memory() -> bool:
    """Have glibc's malloc keep freed memory for the next allocation instead of giving it back to the system.

    By default a block over 32 MiB (a batch of clips, a network's activations) is a fresh ``mmap``
    each time, and every page of it faults on first touch: on the 2-core VM of
    ``benchmarks/RESULTS.md``, converting a batch of 8 uint8 clips to float took 34 ms in fresh
    memory against 6.5 ms in reused memory. A long prediction run allocates the same sizes over and
    over, so it keeps them: the process's resident memory stays at its peak, and so does that of
    the DataLoader workers it forks afterwards (they inherit malloc's settings; spawned ones do
    not). A no-op (False) where the C library is not glibc, or where the user tuned malloc
    (``GLIBC_TUNABLES``, ``MALLOC_*_``): theirs win.
    """
    if "GLIBC_TUNABLES" in os.environ or any(name.startswith("MALLOC_") for name in os.environ):
        return False
    if platform.libc_ver()[0] != "glibc":  # mallopt's parameters below are glibc's
        return False
    libc = ctypes.CDLL(None)
    no_mmap, no_trim = libc.mallopt(_M_MMAP_MAX, 0), libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    return bool(no_mmap and no_trim)
