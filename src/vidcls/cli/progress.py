"""A progress bar for long commands, driven by ``update(done, total)`` calls."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second, e.g. "41.3 videos/s" (blank until rich has measured a rate)."""

    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        return Text("" if task.speed is None else f"{task.speed:.1f} {self.unit}/s")


@contextmanager
def progress_bar(description: str, unit: str | None = None, stderr: bool = False) -> Iterator[Callable[[int, int | None], None]]:
    """Show a bar while the block runs; the block reports with ``update(done, total)`` (total None: not known yet).

    ``unit`` names what is counted, to show their rate; ``stderr`` keeps the bar off the command's output.
    """
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *((RateColumn(unit),) if unit else ()),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False, console=Console(stderr=stderr)) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield update
