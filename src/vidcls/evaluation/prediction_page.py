"""The page of ``vidcls predict --html``: per video a strip of its frames and its top-k (or labels) as bars, or its timeline.

It draws the entries ``vidcls predict --json`` prints (``path`` with ``predictions``, or
``windows`` and ``segments``, or ``error``), so the page and the JSON say the same; a multi-label
network's entry (with ``labels``) shows its classes at or above the threshold, as the table does, and
its timeline each window's. A timeline is
a coloured bar of its segments over the video's duration, under the frame strip (both span the
video, frame ``i`` of ``n`` at the centre of its ``i``-th part), with a time axis and a table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from vidcls.evaluation.html import escape, frame_strip, image, percent, ranked_bars, render_page
from vidcls.io import write_text_atomic


def write_prediction_page(
    path: str | Path, entries: Sequence[Mapping], previews: Mapping[str, torch.Tensor], checkpoint: str | Path,
    threshold: float | None = None,
) -> Path:
    """Write the page; ``previews`` maps a video's path to its frames (uint8 ``T×H×W×C``, at its parts' centres).

    ``threshold``: the multi-label threshold the entries' ``labels`` were chosen by, named above them.
    """
    colours = _ClassColours()
    failed = sum("error" in entry for entry in entries)
    body = "\n".join((
        "<h1>Predictions</h1>",
        f'<p class="muted">{len(entries)} video{"s" if len(entries) != 1 else ""}{f", {failed} unreadable" if failed else ""}'
        f" · checkpoint <code>{escape(checkpoint)}</code></p>",
        *(_video_card(entry, previews.get(entry["path"]), colours, threshold) for entry in entries),
    ))
    path = Path(path)
    write_text_atomic(path, render_page("vidcls predictions", body))
    return path


def _video_card(entry: Mapping, frames: torch.Tensor | None, colours: _ClassColours, threshold: float | None) -> str:
    parts = [f'<div class="path">{escape(entry["path"])}</div>']
    if "error" in entry:
        parts.append(f'<p class="error">error: {escape(entry["error"])}</p>')
    else:
        if frames is not None:  # over a timeline, the strip spans the bar: each frame above its time
            parts.append(image(frame_strip(frames), f"frames of {entry['path']}", "strip span" if "segments" in entry else "strip"))
        if "segments" in entry:
            parts.append(_timeline(entry["segments"], colours))
            if entry["windows"] and "labels" in entry["windows"][0]:  # multi-label: the bar is each window's top class
                parts.append(_window_labels(entry["windows"], threshold))
        elif "labels" in entry:  # multi-label: the classes the network says are there, however many
            parts.append(_labels(entry["labels"], threshold))
        else:
            parts.append(ranked_bars([(p["class"], p["probability"]) for p in entry["predictions"]]))
    return f'<div class="card video">{"".join(parts)}</div>'


def _rule(threshold: float | None) -> str:
    return f"probability {threshold:g} or more" if threshold is not None else "probability at or above the threshold"


def _labels(labels: Sequence[Mapping], threshold: float | None) -> str:
    if not labels:
        return f'<p class="muted labels">no class with {_rule(threshold)}</p>'
    return (f'<p class="muted labels">classes with {_rule(threshold)}</p>'
            + ranked_bars([(p["class"], p["probability"]) for p in labels]))


def _window_labels(windows: Sequence[Mapping], threshold: float | None) -> str:
    """A multi-label timeline's windows with every class they hold, as the table of ``vidcls predict --timeline`` lists them."""
    def named(labels: Sequence[Mapping]) -> str:
        return ", ".join(f"{escape(p['class'])} ({percent(p['probability'])})" for p in labels) or "none"

    rows = "".join(f'<tr><td class="number">{w["start"]:.2f}</td><td class="number">{w["end"]:.2f}</td>'
                   f'<td>{named(w["labels"])}</td></tr>' for w in windows)
    return (f'<p class="muted labels">each window\'s classes with {_rule(threshold)}</p>'
            '<table class="window-labels"><thead><tr><th class="number">start (s)</th><th class="number">end (s)</th>'
            f'<th>classes</th></tr></thead><tbody>{rows}</tbody></table>')


def _timeline(segments: Sequence[Mapping], colours: _ClassColours) -> str:
    """The segments as a bar of colours over ``[0, duration]``, a time axis, a legend and a table."""
    duration = segments[-1]["end"]
    bar = "".join(
        f'<div class="segment" style="width:{100 * (s["end"] - s["start"]) / duration:.3f}%;{colours.style(s["label"])}"'
        f' title="{s["start"]:.2f}–{s["end"]:.2f} s: {escape(s["label"])} ({percent(s["score"])})">{escape(s["label"])}</div>'
        for s in segments
    )
    ticks = [t for t in _ticks(duration) if t < 0.92 * duration]  # room for the duration itself, at the right end
    axis = "".join(f'<span style="left:{100 * t / duration:.3f}%">{t:g} s</span>' for t in ticks)
    axis += f'<span class="end">{duration:.2f} s</span>'
    labels = dict.fromkeys(s["label"] for s in segments)
    legend = "".join(f'<span><i style="{colours.style(label)}"></i>{escape(label)}</span>' for label in labels)
    rows = "".join(
        f'<tr><td class="number">{s["start"]:.2f}</td><td class="number">{s["end"]:.2f}</td>'
        f'<td>{escape(s["label"])}</td><td class="number" data-score="{s["score"]:.6f}">{percent(s["score"])}</td></tr>'
        for s in segments
    )
    table = ('<table class="segments"><thead><tr><th class="number">start (s)</th><th class="number">end (s)</th>'
             f'<th>class</th><th class="number">score</th></tr></thead><tbody>{rows}</tbody></table>')
    return (f'<div class="timeline">{bar}</div><div class="axis">{axis}</div>'
            f'<p class="legend">{legend}</p>{table}')


def _ticks(duration: float, most: int = 8) -> list[float]:
    """Round times (steps of 1, 2 or 5 × a power of ten) from 0 to ``duration``, at most ``most`` of them."""
    magnitude = 10 ** math.floor(math.log10(duration / most)) if duration > 0 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if duration / (m * magnitude) < most)
    return [round(i * step, 6) for i in range(int(duration / step + 1e-9) + 1)]


class _ClassColours:
    """A colour per class, the same wherever it appears on the page (matplotlib's tab20, in order of first use)."""

    def __init__(self):
        from matplotlib import colormaps

        # tab20 pairs a dark and a light shade: the dark ones first, so neighbouring classes differ most
        palette = colormaps["tab20"].colors
        self.palette = [*palette[::2], *palette[1::2]]
        self.assigned: dict[str, str] = {}

    def style(self, label: str) -> str:
        """CSS for the class's background, with text that stays readable on it."""
        if label not in self.assigned:
            red, green, blue = self.palette[len(self.assigned) % len(self.palette)]
            text = "#000" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.6 else "#fff"
            hex_colour = "#" + "".join(f"{round(255 * c):02x}" for c in (red, green, blue))
            self.assigned[label] = f"background:{hex_colour};color:{text}"
        return self.assigned[label]
