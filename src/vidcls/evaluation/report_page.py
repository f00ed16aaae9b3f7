"""``report.html``: a test run as a person looks at it, in one file that opens from disk.

The summary shows the numbers of ``report.json`` (the same dict is passed in), then the
confusion matrix, the per-class table (sortable) and the most confidently wrong videos, each with
the frames the network saw and its top-5. A multi-label test shows its mAP, the per-class AP,
positives and predicted positives (sortable), and the most confident false positives and missed
positives at the threshold, with frames. Only those few videos have frames, so the page stays
small however large the test set: on 400 classes and 19,906 videos it is well under a megabyte
(``benchmarks/report_page.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from vidcls.evaluation.html import (
    SORT_SCRIPT,
    data_uri,
    escape,
    frame_strip,
    image,
    percent,
    ranked_bars,
    render_page,
    sortable_table,
)
from vidcls.io import write_text_atomic

# How many wrong videos get a card: enough to see patterns, few enough to re-read after the test.
WRONG_EXAMPLES = 12


@dataclass(frozen=True)
class WrongVideo:
    """A misclassified test video as the page shows it."""

    path: str
    true_class: str
    ranked: Sequence[tuple[str, float]]  # its top-5, most probable first
    frames: torch.Tensor | None  # T×H×W×C uint8: the frames the network saw; None when they could not be read again
    note: str = ""  # why there are no frames


@dataclass(frozen=True)
class LabelError:
    """A multi-label test video with one class on the wrong side of the threshold, as the page shows it."""

    path: str
    class_name: str
    probability: float
    missed: bool  # a class of the video scored under the threshold; else a false positive
    labels: Sequence[str]  # the video's classes (none: a negative)
    ranked: Sequence[tuple[str, float]]  # its top-5, most probable first
    frames: torch.Tensor | None  # as WrongVideo's
    note: str = ""


def write_report_page(
    path: str | Path,
    summary: Mapping,
    per_class: Sequence[Mapping],
    confusion_png: bytes | None,
    wrong: Sequence[WrongVideo] | Sequence[LabelError],
    errors: int,
) -> Path:
    """Write ``report.html``: ``summary`` is report.json's content, ``errors`` the count of misclassified videos.

    A multi-label summary (``task`` multilabel) takes :class:`LabelError` examples and no confusion matrix.
    """
    if summary.get("task") == "multilabel":
        body = _multilabel_body(summary, per_class, wrong)
    else:
        body = _multiclass_body(summary, per_class, confusion_png, wrong, errors)
    path = Path(path)
    write_text_atomic(path, render_page(f"vidcls test report: {summary.get('model', '')}", body, SORT_SCRIPT))
    return path


def _multiclass_body(summary: Mapping, per_class: Sequence[Mapping], confusion_png: bytes, wrong: Sequence[WrongVideo],
                     errors: int) -> str:
    return "\n".join((
        "<h1>Test report</h1>",
        f'<p class="muted">{escape(summary.get("model", ""))} · {summary["videos"]} videos</p>',
        "<h2>Summary</h2>",
        _summary_table(summary),
        "<h2>Confusion matrix</h2>",
        image(data_uri(confusion_png, "image/png"), "confusion matrix", "confusion"),
        "<h2>Per class</h2>",
        '<p class="muted">Click a column to sort (accuracy: worst classes first).</p>',
        f'<div class="scroll">{_per_class_table(per_class)}</div>',
        f"<h2>Most confidently wrong ({len(wrong)} of {errors} misclassified videos)</h2>",
        f'<div class="cards">{"".join(_wrong_card(video) for video in wrong)}</div>',
    ))


def _multilabel_body(summary: Mapping, per_class: Sequence[Mapping], errors: Sequence[LabelError]) -> str:
    threshold = percent(summary["threshold"])
    false_positives = [error for error in errors if not error.missed]
    missed = [error for error in errors if error.missed]
    return "\n".join((
        "<h1>Test report</h1>",
        f'<p class="muted">{escape(summary.get("model", ""))} · {summary["videos"]} videos · multi-label</p>',
        "<h2>Summary</h2>",
        _summary_table(summary),
        "<h2>Per class</h2>",
        f'<p class="muted">Click a column to sort. Predicted: videos scored at least {threshold}.</p>',
        f'<div class="scroll">{_ap_table(per_class)}</div>',
        f"<h2>Most confident false positives ({len(false_positives)} of {summary['false_positives']})</h2>",
        f'<div class="cards">{"".join(_label_error_card(error) for error in false_positives)}</div>',
        f"<h2>Most confidently missed positives ({len(missed)} of {summary['missed_positives']})</h2>",
        f'<div class="cards">{"".join(_label_error_card(error) for error in missed)}</div>',
    ))


def _summary_table(summary: Mapping) -> str:
    clip = summary.get("clip") or {}
    if summary.get("task") == "multilabel":
        figures = [
            ("mAP", "mAP", percent(summary["mAP"], 2) if summary["mAP"] is not None else "– (no positives)"),
            ("threshold", "threshold", f"{summary['threshold']:g}"),
            ("false positives", "false_positives", str(summary["false_positives"])),
            ("missed positives", "missed_positives", str(summary["missed_positives"])),
        ]
    else:
        figures = [
            ("top-1", "top1", percent(summary["top1"], 2)),
            ("top-5", "top5", percent(summary["top5"], 2)),
            ("mean class accuracy", "mean_class_accuracy", percent(summary["mean_class_accuracy"], 2)),
        ]
    rows = [
        *figures,
        ("videos", "videos", str(summary["videos"])),
        ("views per video", "views", str(summary.get("views", "?"))),
        ("model", "model", summary.get("model", "?")),
        ("checkpoint", "checkpoint", summary.get("checkpoint") or "(the weights in memory)"),
        ("clip settings", "clip", ", ".join(f"{key} {_plain(value)}" for key, value in clip.items()) or "?"),
    ]
    cells = "".join(f'<tr><th>{escape(title)}</th><td data-key="{key}">{escape(text)}</td></tr>' for title, key, text in rows)
    return f'<table class="summary">{cells}</table>'


def _plain(value: object) -> str:
    if isinstance(value, list | tuple):
        return " ".join(map(_plain, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _per_class_table(per_class: Sequence[Mapping]) -> str:
    rows = [
        ((row["class"], None), (str(row["videos"]), row["videos"]), (str(row["correct"]), row["correct"]),
         (percent(row["accuracy"]) if row["videos"] else "–", row["accuracy"] if row["videos"] else -1))
        for row in per_class
    ]
    return sortable_table([("class", False), ("videos", True), ("correct", True), ("accuracy", True)], rows)


def _ap_table(per_class: Sequence[Mapping]) -> str:
    rows = [
        ((row["class"], None), (str(row["positives"]), row["positives"]), (str(row["predicted"]), row["predicted"]),
         (percent(row["ap"]) if row["ap"] is not None else "–", row["ap"] if row["ap"] is not None else -1))
        for row in per_class
    ]
    return sortable_table([("class", False), ("positives", True), ("predicted", True), ("AP", True)], rows)


def _strip(video: WrongVideo | LabelError) -> str:
    return (image(frame_strip(video.frames), f"frames of {video.path}", "strip") if video.frames is not None
            else f'<p class="error">frames not shown: {escape(video.note)}</p>')


def _label_error_card(error: LabelError) -> str:
    kind = "missed" if error.missed else "false positive"
    labels = ", ".join(error.labels) or "none (a negative)"
    return (
        f'<div class="card wrong {"missed" if error.missed else "false-positive"}"><div class="path">{escape(error.path)}</div>'
        f"{_strip(error)}<p>{kind} <b>{escape(error.class_name)}</b> ({percent(error.probability)})</p>"
        f'<p class="labels">labels: {escape(labels)}</p>{ranked_bars(error.ranked, error.labels)}</div>'
    )


def _wrong_card(video: WrongVideo) -> str:
    strip = _strip(video)
    predicted, probability = video.ranked[0]
    missing = "" if any(name == video.true_class for name, _ in video.ranked) else (
        '<p class="muted">the true class is not in the top 5</p>')
    return (
        f'<div class="card wrong"><div class="path">{escape(video.path)}</div>{strip}'
        f"<p>true <b>{escape(video.true_class)}</b>, predicted <b>{escape(predicted)}</b> ({percent(probability)})</p>"
        f"{ranked_bars(video.ranked, video.true_class)}{missing}</div>"
    )
