"""`vidcls predict`: top-k classes (or a timeline) for video files, folders and path lists, as a table, JSON or JSON lines.

A video is scored over the checkpoint's test views (``test_clips`` × ``test_crops``) unless
``--clips``/``--crops`` say otherwise. A file that cannot be read becomes an error entry and the
others go on; the exit status is 1 when any failed, so scripts notice. A multi-label checkpoint's
probabilities are sigmoids: each video (and each timeline window) also lists as ``labels`` every
class whose probability reaches ``--threshold``, however many, and the table shows those. ``--html FILE`` also draws the results as a page: per video
a strip of its frames, and its top-k as bars (a multi-label network's: its labels), or its timeline as
coloured segments (a multi-label network's: also each window's labels).

``--output FILE.jsonl`` is for corpora: a row per video appended as it finishes (a rerun skips the
videos there), ``--features`` beside it, ``--shard I/N`` or a launcher's ``RANK``/``WORLD_SIZE`` for
this process's share, a progress bar and a closing line instead of the table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from vidcls.cli.progress import progress_bar
from vidcls.data.info import DEFAULT_MAX_PIXELS
from vidcls.datatools.shards import Shard, parse_shard, shard_file
from vidcls.errors import VidclsError, VideoReadError
from vidcls.task import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from vidcls.inference.timeline import Ranked, Timeline

Entry = dict  # {"path": ..., then "predictions", or "windows" and "segments", or "error"}
PRECISIONS = ("32", "bf16")


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vidcls predict",
        description="Classify videos with a trained checkpoint, using its classes, clip settings and eval transforms.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="video files, or folders searched for videos")
    parser.add_argument("--list", action="append", default=[], metavar="FILE",
                        help="a text file of video paths, one per line (relative to its folder), read as it goes")
    parser.add_argument("--checkpoint", required=True, metavar="CKPT", help="a checkpoint written by vidcls fit")
    parser.add_argument("--top-k", type=int, default=5, help="classes listed per video or window (default 5)")
    parser.add_argument("--clips", type=int, help="uniform clips averaged per video (default: the checkpoint's test_clips)")
    parser.add_argument("--crops", type=int,
                        help="crops along the long side averaged per clip or window (default: the checkpoint's test_crops)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help="multi-label checkpoints: list every class whose probability reaches this (default 0.5)")
    parser.add_argument("--timeline", action="store_true", help="predict sliding windows and merge them into segments")
    parser.add_argument("--window", type=float, metavar="SECONDS",
                        help="window length (default: the training clip; a segment-sampled checkpoint needs it given)")
    parser.add_argument("--stride", type=float, metavar="SECONDS", help="window step (default: half a window)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--html", metavar="FILE", help="also write a page with each video's frames and predictions")
    parser.add_argument("--output", metavar="FILE.jsonl",
                        help="write one JSON line per video as it finishes; a rerun skips the videos already there")
    parser.add_argument("--features", metavar="FILE.npy",
                        help="with --output: each video's pooled features (the classifier's input, mean over its views) "
                             "as a float32 .npy, its paths beside it (feats.npy: feats.paths.txt)")
    parser.add_argument("--shard", metavar="I/N",
                        help="with --output: predict shard I of N (a hash of each path) into its own files, e.g. "
                             "preds.0-of-8.jsonl; torchrun's RANK/WORLD_SIZE do the same")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="processes decoding while the model runs (default: the cores available, shared by a "
                             "launcher's processes on a machine; 0 with --decode-device cuda; 0: decode in turn)")
    parser.add_argument("--batch-size", type=int, metavar="CLIPS",
                        help="clips per network batch, across videos (default: the Predictor's, 8)")
    parser.add_argument("--precision", choices=PRECISIONS, help="bf16: run the network under autocast (default 32)")
    parser.add_argument("--device", help="torch device (default: cuda when available, else cpu)")
    parser.add_argument("--decode-device", choices=("cpu", "cuda"), default="cpu",
                        help="cuda: decode with torchcodec on the model's GPU (NVDEC); give --workers 0 or few, "
                             "each worker opens a CUDA context")
    parser.add_argument("--decode-timeout", type=float, metavar="SECONDS",
                        help="give up a video whose views take longer to decode: an error row (default 30; 0: wait)")
    parser.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, metavar="N",
                        help="refuse larger frames (width x height) before decoding (default 4096*4096; 0: no limit)")
    parser.add_argument("--max-duration", type=float, metavar="SECONDS",
                        help="refuse longer videos before decoding (default: no limit)")
    args = parser.parse_intermixed_args(argv)  # paths may come before or after options
    for name in ("top_k", "clips", "crops", "window", "stride", "max_duration", "batch_size"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    for name in ("workers", "decode_timeout"):
        if (getattr(args, name) or 0) < 0:
            parser.error(f"--{name.replace('_', '-')} must be 0 or more")
    if not 0 <= args.threshold <= 1:
        parser.error("--threshold must be a probability, between 0 and 1")
    if not args.paths and not args.list:
        parser.error("give video files or folders, or --list FILE")
    try:
        shard = _shard(args, parser)
    except VidclsError as error:
        parser.error(str(error))
    for list_file in args.list:
        if not Path(list_file).is_file():
            parser.error(f"--list {list_file}: no such file")

    from vidcls.data.decoding import DecoderSettings
    from vidcls.inference.predictor import Predictor  # torch: once the arguments are good

    device = args.device or _launched_device()
    on_gpu = args.decode_device == "cuda"
    chosen = {name: value for name, value in (("batch_size", args.batch_size), ("precision", args.precision)) if value}
    predictor = Predictor.from_checkpoint(
        args.checkpoint,
        num_clips=args.clips,
        num_crops=args.crops,
        device=device,
        max_pixels=args.max_pixels or None,
        max_duration=args.max_duration,
        decoding=DecoderSettings(decode_device=device if on_gpu and device and device.startswith("cuda") else args.decode_device,
                                 **({} if args.decode_timeout is None else {"decode_timeout": args.decode_timeout or None})),
        **chosen,  # the Predictor's defaults otherwise
    )

    if args.timeline and args.window is None and predictor.views.segments:
        parser.error(f"--timeline: {args.checkpoint} samples its frames from parts of whole videos, so no window length "
                     "comes with it: give --window SECONDS")
    # multi-label: rank every class, so that each one above the threshold is listed, not only the top k
    threshold = args.threshold if predictor.task == "multilabel" else None
    ranks = len(predictor.classes) if threshold is not None else args.top_k

    def given() -> Iterator[str]:
        from vidcls.inference.corpus import read_path_list

        yield from args.paths
        for list_file in args.list:
            yield from read_path_list(list_file)

    def rows(videos: Iterable[str]) -> Iterator[tuple[Entry, object]]:
        """(row, features or None) per video, in order."""
        if args.timeline:
            for path in videos:
                try:
                    timeline = predictor.timeline(path, window=args.window, stride=args.stride, top_k=ranks)
                    yield {"path": path, **_timeline_entry(timeline, args.top_k, threshold)}, None
                except VideoReadError as error:
                    yield _error_entry(path, error), None
            return
        from vidcls.inference.corpus import local_processes
        from vidcls.io import available_cores, keep_freed_memory

        keep_freed_memory()  # the same batch sizes over and over: reused, not faulted in afresh (+7% videos/s)
        cores = max(available_cores() // local_processes(), 1)
        workers = (0 if on_gpu else cores) if args.workers is None else args.workers  # GPU decoding: in this process
        if predictor.device.type == "cpu" and workers and "OMP_NUM_THREADS" not in os.environ:
            # the network's threads on the cores the workers leave: more threads than free cores make every
            # batch wait for a descheduled one (measured for training: benchmarks/train_throughput.py)
            import torch

            torch.set_num_threads(max(cores - workers, 1))
        for result in predictor.predict_many(videos, workers=workers, features=bool(args.features)):
            if result.error is not None:
                yield {"path": result.path, "error": result.error}, None
            else:
                scored = _scored(predictor.ranked(result.probabilities, ranks), args.top_k, threshold)
                yield {"path": result.path, **scored}, result.features

    if args.output:
        return _write_rows(args, shard, given, rows)

    from vidcls.inference.corpus import corpus

    entries = [row for row, _ in rows(corpus(given()))]
    if args.html:
        from vidcls.evaluation.prediction_page import write_prediction_page

        previews = {}
        for entry in entries:
            if "error" not in entry:
                with suppress(VideoReadError):  # read a moment ago; gone since: the page shows it without frames
                    previews[entry["path"]] = predictor.preview(entry["path"])
        print(f"page: {write_prediction_page(args.html, entries, previews, args.checkpoint, threshold)}", file=sys.stderr)
    if args.json:
        print(json.dumps(entries, indent=2))
    elif args.timeline:
        _print_timelines(entries)
    else:
        _print_predictions(entries)
    return 1 if any("error" in entry for entry in entries) else 0


def _shard(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Shard | None:
    """The share of the videos this process predicts: ``--shard``, or the launcher's rank; None: all."""
    from vidcls.inference.corpus import launcher_shard

    given = parse_shard(args.shard) if args.shard else None
    launched = launcher_shard()
    if given and launched:
        parser.error(f"--shard {args.shard} and a launcher's WORLD_SIZE={launched.count} both split the videos: use one")
    shard = given or launched
    if (shard or args.features) and not args.output:
        parser.error(f"{'--features' if args.features else '--shard or a launcher'} needs --output (the rows' file)")
    if args.output and (args.json or args.html):
        parser.error("--output writes every video's row to its file: leave out --json and --html")
    if args.features and args.timeline:
        parser.error("--features takes whole videos: leave out --timeline")
    return shard


def _launched_device() -> str | None:
    """A launcher's process on a machine with GPUs takes the GPU of its local rank; None: the default device."""
    import torch

    if "LOCAL_RANK" in os.environ and torch.cuda.is_available():
        return f"cuda:{int(os.environ['LOCAL_RANK']) % torch.cuda.device_count()}"
    return None


def _write_rows(args: argparse.Namespace, shard: Shard | None, given: Callable[[], Iterator[str]],
                rows: Callable[[Iterable[str]], Iterator[tuple[Entry, object]]]) -> int:
    """Append every video's row to the output (its shard's file) as it finishes; a closing line says what was done."""
    from vidcls.inference.corpus import corpus
    from vidcls.inference.outputs import PredictionWriter

    output = shard_file(Path(args.output), shard)
    features = shard_file(Path(args.features), shard) if args.features else None
    total: list[int | None] = [None]
    done = errors = 0
    with PredictionWriter(output, features) as writer, progress_bar("Predicting", unit="videos", stderr=True) as update:
        skipped = len(writer.done)

        def count() -> None:  # for the ETA: a second pass over the list, beside the first
            total[0] = sum(1 for _ in corpus(given(), shard=shard, skip=writer.done))

        threading.Thread(target=count, daemon=True).start()
        started = time.perf_counter()
        for row, pooled in rows(corpus(given(), shard=shard, skip=writer.done)):
            writer.write(row, pooled)
            done += 1
            errors += "error" in row
            update(done, total[0])
        elapsed = time.perf_counter() - started
    rate = f"; {done / elapsed:.1f} videos/s" if done and elapsed > 0 else ""
    print(f"{output}: {done} videos predicted, {errors} unreadable (rows with an error), "
          f"{skipped} already there{rate}", file=sys.stderr)
    return 1 if errors else 0


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
