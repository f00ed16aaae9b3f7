"""A long video's predictions over time: sliding windows, and the segments where the top class stays the same.

:meth:`vidcls.inference.predictor.Predictor.timeline` scores the windows; this module holds what it
returns and how windows merge into segments (numbers only: no network, no decoding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

Ranked = list[tuple[str, float]]  # (class name, probability), most probable first


@dataclass(frozen=True)
class Window:
    """One sliding window: its span (seconds from the video's start) and its top-k classes."""

    start: float
    end: float
    predictions: Ranked

    @property
    def label(self) -> str:
        return self.predictions[0][0]


@dataclass(frozen=True)
class Segment:
    """Consecutive windows with the same top-1 class; ``score`` is that class's mean probability over them."""

    start: float
    end: float
    label: str
    score: float


@dataclass(frozen=True)
class Timeline:
    """A long video's windows in time order, and the segments they merge into."""

    windows: list[Window]
    segments: list[Segment]


def merge_windows(windows: Sequence[Window], duration: float) -> list[Segment]:
    """Runs of windows with the same top-1 class as segments that tile ``[0, duration]``.

    Windows overlap, so each owns the time nearer its centre than any other window's centre;
    a segment's score is the mean top-1 probability of its windows.
    """
    centres = [(w.start + w.end) / 2 for w in windows]
    bounds = [0.0, *((a + b) / 2 for a, b in zip(centres, centres[1:])), duration]
    segments = []
    for label, group in groupby(enumerate(windows), key=lambda item: item[1].label):
        run = list(group)
        first, last = run[0][0], run[-1][0]
        score = sum(w.predictions[0][1] for _, w in run) / len(run)
        segments.append(Segment(bounds[first], bounds[last + 1], label, score))
    return segments
