"""Time a loader exactly as ``vidcls fit`` builds it: clips per second and DataLoader worker memory.

Video training is usually bound by decoding, so this is the number to watch when changing data
settings, storage or machines (``vidcls bench data``; ``benchmarks/data_pipeline.py`` compares it
with the tutorial's pipeline and FFmpeg's decode floor).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from torch.utils.data import DataLoader

from vidcls.training.config import run_lightning
from vidcls.training.run import resolve_run

LOADER_SETTINGS = ("batch_size", "num_workers", "decoder", "decode_device", "decoder_threads", "clips_per_video")


@dataclass
class Memory:
    """Resident memory in MB: after the warm-up, at the end, and the peak (kernel's high-water mark)."""

    start: float
    end: float
    peak: float


@dataclass
class LoaderTiming:
    clips: int
    seconds: float
    batch_shape: list[int]
    main_rss_mb: Memory
    worker_rss_mb: Memory | None  # the largest worker's; None without worker processes

    @property
    def clips_per_s(self) -> float:
        return self.clips / self.seconds

    def as_dict(self) -> dict:
        return {"clips_per_s": round(self.clips_per_s, 3), **asdict(self)}


def time_loader(loader: DataLoader, clips: int) -> LoaderTiming:
    """Clips per second over at least ``clips`` clips, in the steady state.

    Warm-up (untimed): the first batch (worker start-up, first opens) and the batches the workers
    have queued meanwhile, which would otherwise count as instant. Runs as many epochs as it
    takes; with persistent workers (``fit``'s setting) they live on.
    """
    others = set(_children())
    batches = _endless(loader)
    first = next(batches)["video"]
    workers = [pid for pid in _children() if pid not in others]  # the processes the loader started
    for _ in range(loader.num_workers * (loader.prefetch_factor or 0)):
        next(batches)
    main_start, worker_start = _rss(os.getpid()), [_rss(pid) for pid in workers]
    done = 0
    started = time.perf_counter()
    while done < clips:
        done += next(batches)["video"].shape[0]
    seconds = time.perf_counter() - started
    batches.close()
    worker_rss = None
    if workers:
        end = [_rss(pid) for pid in workers]
        worker_rss = Memory(max(worker_start), max(end), max(_rss(pid, "VmHWM") for pid in workers))
    main_rss = Memory(main_start, _rss(os.getpid()), _rss(os.getpid(), "VmHWM"))
    return LoaderTiming(done, seconds, list(first.shape), main_rss, worker_rss)


def bench_data(cli_args: Sequence[str], split: str = "train", clips: int = 200) -> dict:
    """Build the datamodule from LightningCLI arguments as ``fit`` does and time the ``split`` loader."""
    cli = run_lightning(cli_args, run=False)
    datamodule = cli.datamodule
    run = resolve_run(cli.model, datamodule)  # the data side of what fit's link_run decides; no network is built
    datamodule.use_run(list(run.classes), run.clip, run.task)
    datamodule.setup("fit" if split == "train" else "validate")
    loader = datamodule.train_dataloader() if split == "train" else datamodule.val_dataloader()
    settings = {**{key: datamodule.hparams[key] for key in LOADER_SETTINGS}, "clip": datamodule.clip.to_dict()}
    timing = time_loader(loader, clips)
    del loader, datamodule
    gc.collect()  # end persistent workers now, not when a later fork collects the loader (and fails to)
    return {**timing.as_dict(), "split": split, "settings": settings}


def _endless(loader: DataLoader) -> Iterator[dict]:
    while True:
        yield from loader


def _children() -> list[int]:
    """This process's child processes (Linux /proc; empty elsewhere)."""
    pid = os.getpid()
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _rss(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory in MB from /proc/PID/status (no psutil); 0 where unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0
