"""`vidcls predict`: top-k classes (or a timeline) for video files and folders, as a table or JSON.

A video is scored over the checkpoint's test views (``test_clips`` × ``test_crops``) unless
``--clips``/``--crops`` say otherwise. A file that cannot be read becomes an error entry and the
others go on; the exit status is 1 when any failed, so scripts notice. A multi-label checkpoint's
probabilities are sigmoids: each video (and each timeline window) also lists as ``labels`` every
class whose probability reaches ``--threshold``, however many, and the table shows those. ``--html FILE`` also draws the results as a page: per video
a strip of its frames, and its top-k as bars or its timeline as coloured segments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from vidcls.data.info import DEFAULT_MAX_PIXELS
from vidcls.errors import VideoReadError
from vidcls.task import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from vidcls.inference.predictor import Ranked, Timeline

Entry = dict  # {"path": ..., then "predictions", or "windows" and "segments", or "error"}


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vidcls predict",
        description="Classify videos with a trained checkpoint, using its classes, clip settings and eval transforms.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="video files, or folders searched for videos")
    parser.add_argument("--checkpoint", required=True, metavar="CKPT", help="a checkpoint written by vidcls fit")
    parser.add_argument("--top-k", type=int, default=5, help="classes listed per video or window (default 5)")
    parser.add_argument("--clips", type=int, help="uniform clips averaged per video (default: the checkpoint's test_clips)")
    parser.add_argument("--crops", type=int,
                        help="crops along the long side averaged per clip or window (default: the checkpoint's test_crops)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help="multi-label checkpoints: list every class whose probability reaches this (default 0.5)")
    parser.add_argument("--timeline", action="store_true", help="predict sliding windows and merge them into segments")
    parser.add_argument("--window", type=float, metavar="SECONDS", help="window length (default: the training clip)")
    parser.add_argument("--stride", type=float, metavar="SECONDS", help="window step (default: half a window)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--html", metavar="FILE", help="also write a page with each video's frames and predictions")
    parser.add_argument("--device", help="torch device (default: cuda when available, else cpu)")
    parser.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, metavar="N",
                        help="refuse larger frames (width x height) before decoding (default 4096*4096; 0: no limit)")
    parser.add_argument("--max-duration", type=float, metavar="SECONDS",
                        help="refuse longer videos before decoding (default: no limit)")
    args = parser.parse_intermixed_args(argv)  # paths may come before or after options
    for name in ("top_k", "clips", "crops", "window", "stride", "max_duration"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    if not 0 <= args.threshold <= 1:
        parser.error("--threshold must be a probability, between 0 and 1")

    from vidcls.inference.predictor import Predictor  # torch: once the arguments are good

    predictor = Predictor.from_checkpoint(
        args.checkpoint,
        num_clips=args.clips,
        num_crops=args.crops,
        device=args.device,
        max_pixels=args.max_pixels or None,
        max_duration=args.max_duration,
    )

    previews = {}  # path → frames, for the page

    # multi-label: rank every class, so that each one above the threshold is listed, not only the top k
    threshold = args.threshold if predictor.task == "multilabel" else None
    ranks = len(predictor.classes) if threshold is not None else args.top_k

    def describe(path: Path) -> dict:
        if args.timeline:
            timeline = predictor.timeline(path, window=args.window, stride=args.stride, top_k=ranks)
            entry = _timeline_entry(timeline, args.top_k, threshold)
        else:
            entry = _scored(predictor.predict(path, ranks), args.top_k, threshold)
        if args.html:
            previews[str(path)] = predictor.preview(path)
        return entry

    entries = list(_predict_entries(args.paths, describe))
    if args.html:
        from vidcls.evaluation.prediction_page import write_prediction_page

        print(f"page: {write_prediction_page(args.html, entries, previews, args.checkpoint)}", file=sys.stderr)
    if args.json:
        print(json.dumps(entries, indent=2))
    elif args.timeline:
        _print_timelines(entries)
    else:
        _print_predictions(entries)
    return 1 if any("error" in entry for entry in entries) else 0


def _predict_entries(paths: Sequence[str], describe: Callable[[Path], dict]) -> Iterator[Entry]:
    """``{"path": ..., **describe(path)}`` per video found, or ``{"path": ..., "error": ...}`` where reading failed."""
    from vidcls.inference.predictor import video_files

    for given in paths:
        try:
            files = video_files(given)
        except VideoReadError as error:
            yield _error_entry(given, error)
            continue
        for path in files:
            try:
                yield {"path": str(path), **describe(path)}
            except VideoReadError as error:
                yield _error_entry(path, error)


def _error_entry(path: str | Path, error: VideoReadError) -> Entry:
    return {"path": str(path), "error": error.reason}


def _ranked(ranked: Ranked) -> list[dict]:
    return [{"class": name, "probability": probability} for name, probability in ranked]


def _scored(ranked: Ranked, top_k: int, threshold: float | None) -> dict:
    """``predictions``: the top k; with a threshold (multi-label), ``labels``: every class whose probability reaches it."""
    entry = {"predictions": _ranked(ranked[:top_k])}
    if threshold is not None:
        entry["labels"] = _ranked([(name, probability) for name, probability in ranked if probability >= threshold])
    return entry


def _timeline_entry(timeline: Timeline, top_k: int, threshold: float | None) -> dict:
    windows = [{"start": w.start, "end": w.end, **_scored(w.predictions, top_k, threshold)} for w in timeline.windows]
    return {"windows": windows, "segments": [asdict(segment) for segment in timeline.segments]}


def _print_predictions(entries: list[Entry]) -> None:
    table = Table(Column("video", overflow="fold"), "class", "probability")  # fold: show the whole path
    for entry in entries:
        table.add_row(Text(entry["path"]), *_prediction_cells(entry))
    Console().print(table)


def _print_timelines(entries: list[Entry]) -> None:
    console = Console()
    for entry in entries:
        console.print(Text(entry["path"], style="bold"))  # above the table, not as its title: no wrapping
        if "error" in entry:
            console.print(_error_text(entry))
            continue
        if entry["windows"] and "labels" in entry["windows"][0]:  # multi-label: each window's classes above the threshold
            table = Table("start (s)", "end (s)", "classes", "probability")
            for window in entry["windows"]:
                table.add_row(f"{window['start']:.2f}", f"{window['end']:.2f}", *_labels_cells(window["labels"]))
            console.print(table)
            continue
        table = Table("start (s)", "end (s)", "class", "score")
        for segment in entry["segments"]:
            times = f"{segment['start']:.2f}", f"{segment['end']:.2f}"
            table.add_row(*times, segment["label"], f"{segment['score']:.3f}")
        console.print(table)


def _prediction_cells(entry: Entry) -> tuple[Text, str]:
    if "error" in entry:
        return _error_text(entry), ""
    if "labels" in entry:  # multi-label: the classes above the threshold
        return _labels_cells(entry["labels"])
    names = "\n".join(p["class"] for p in entry["predictions"])
    return Text(names), "\n".join(f"{p['probability']:.3f}" for p in entry["predictions"])


def _labels_cells(labels: list[dict]) -> tuple[Text, str]:
    if not labels:
        return Text("(none above the threshold)", style="dim"), ""
    return Text("\n".join(p["class"] for p in labels)), "\n".join(f"{p['probability']:.3f}" for p in labels)


def _error_text(entry: Entry) -> Text:
    return Text(f"error: {entry['error']}", style="red")
