"""Predicting a folder of videos: `vidcls predict --output` next to `transformers.pipeline("video-classification")`.

Both run the same network on the same videos, one clip per video, each in a fresh process timed
from its launch (so start-up, the imports and the model loading, counts as a user sees it):

- vidcls: a VideoMAE fine-tuned for one step by `vidcls fit` from a small random VideoMAE folder
  (``save_pretrained``), predicted with ``--clips 1 --crops 1 --output`` and ``--workers 0`` (decoding
  in turn with the model) and ``--workers`` = the cores (decoding in parallel with it);
- the pipeline: the same checkpoint exported by `vidcls export --format huggingface`, called on one
  video path after another as its documentation shows (transformers 5 takes no generator of paths).

Under the table, a line says where one video's time goes (decoding, the network on one thread and on
all cores, timed in-process) and how fast the parallel run could be at most: every core busy all the
time with nothing lost handing clips between processes.

Each video's completion time is read as it happens (vidcls: its row in the output file, polled;
the pipeline: a line per result), so the table gives the start-up (launch to the first video), the
videos/s after the first network batch (whose videos finish together), and the wall time. Videos:
Kinetics-like, 340x256, 30 fps, 10 s, H.264 with FFmpeg's default keyframe interval, synthesized
once into benchmarks/.cache.

    .venv/bin/python benchmarks/predict_throughput.py --repeat 3              # 200 videos, the small VideoMAE
    .venv/bin/python benchmarks/predict_throughput.py --count 10 --size tiny  # a check of the script in a minute
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from bench_common import machine  # benchmarks/ is the script's folder

CACHE = Path(__file__).resolve().parent / ".cache" / "predict_throughput"
LABELS = ["moving_down", "moving_left", "moving_right", "moving_up"]


@dataclass(frozen=True)
class Size:
    """The random VideoMAE's clip and width (the ``small`` one: 16 frames of 224², a 2-block ViT of width 96)."""

    frames: int
    crop: int
    width: int
    layers: int


SIZES = {"small": Size(frames=16, crop=224, width=96, layers=2), "tiny": Size(frames=4, crop=32, width=32, layers=2)}

# Run in the pipeline's process: one line per video as each result comes (the timestamps are the parent's).
PIPELINE = """
import sys
import transformers
pipe = transformers.pipeline("video-classification", model=sys.argv[1], device="cpu")
for path in sys.argv[2:]:
    print(pipe(path, top_k=5)[0]["label"], flush=True)
"""


def videos(cache: Path, count: int) -> list[Path]:
    """``count`` 10 s 340x256 synthetic videos (made once), as class folders under ``cache/videos/train``."""
    from vidcls.datatools.synthetic import CLASSES, SynthConfig, synthesize_dataset

    root = cache / "videos"
    config = SynthConfig(width=340, height=256, fps=30, duration=10.0)
    synthesize_dataset(root, {"train": math.ceil(count / len(CLASSES))}, config, workers=os.cpu_count() or 1)
    files = sorted((root / "train").rglob("*.mp4"))
    return [files[i] for i in range(0, len(files), max(len(files) // count, 1))][:count]


def network(cache: Path, size: Size, root: Path) -> tuple[Path, Path]:
    """A vidcls checkpoint of a random VideoMAE after one training step, and its Hub export (both made once)."""
    import transformers

    folder = cache / f"videomae_{size.frames}x{size.crop}"
    checkpoint, export = folder / "vidcls.ckpt", folder / "export"
    if checkpoint.exists() and export.exists():
        return checkpoint, export
    config = transformers.VideoMAEConfig(
        image_size=size.crop, num_frames=size.frames, patch_size=16, tubelet_size=2, hidden_size=size.width,
        num_hidden_layers=size.layers, num_attention_heads=2, intermediate_size=2 * size.width,
        id2label=dict(enumerate(LABELS)), label2id={label: i for i, label in enumerate(LABELS)})
    transformers.VideoMAEForVideoClassification(config).save_pretrained(folder / "random")
    transformers.VideoMAEImageProcessor(size={"shortest_edge": size.crop}, crop_size={"height": size.crop, "width": size.crop},
                                        image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]
                                        ).save_pretrained(folder / "random")
    run = folder / "run"
    shutil.rmtree(run, ignore_errors=True)
    vidcls("fit", "--model.model", "videomae", "--model.pretrained", str(folder / "random"), "--data.root", str(root),
           "--data.batch_size", "2", "--data.num_workers", "0", "--trainer.accelerator", "cpu", "--trainer.max_epochs", "1",
           "--trainer.limit_train_batches", "1", "--trainer.limit_val_batches", "0", "--trainer.logger", "false",
           "--trainer.enable_progress_bar", "false", "--trainer.default_root_dir", str(run))
    shutil.copy(next(run.rglob("*.ckpt")), checkpoint)
    vidcls("export", "--checkpoint", str(checkpoint), "--format", "huggingface", "--output", str(export))
    return checkpoint, export


def vidcls(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "vidcls", *args], check=True, capture_output=True)


def timed(command: list[str], output: Path | None) -> dict:
    """Launch ``command``; each video's completion time (a line of ``output``, or of its stdout), and the wall time."""
    started = time.perf_counter()
    done: list[float] = []
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if output is None:
        for _ in process.stdout:
            done.append(time.perf_counter() - started)
    else:
        while process.poll() is None:
            lines = output.read_bytes().count(b"\n") if output.exists() else 0
            done += [time.perf_counter() - started] * (lines - len(done))
            time.sleep(0.01)
        done += [time.perf_counter() - started] * (output.read_bytes().count(b"\n") - len(done))
    _, errors = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode or not done:
        raise SystemExit(f"{' '.join(command[:4])}...: exit status {process.returncode}\n{errors[-2000:]}")
    return {"videos": len(done), "startup_s": round(done[0], 2), "videos_per_s": round(rate_after_first(done), 2),
            "wall_s": round(wall, 2)}


def rate_after_first(times: list[float]) -> float:
    """Videos/s after the first network batch: its videos finish together (within 20 ms), so they are left out."""
    first = [t for t in times if t - times[0] < 0.02]
    rest = len(times) - len(first)
    return rest / (times[-1] - first[-1]) if rest and times[-1] > first[-1] else float("nan")


def measure(args: argparse.Namespace) -> tuple[list[dict], dict]:
    files = videos(args.cache, args.count)
    checkpoint, export = network(args.cache, SIZES[args.size], args.cache / "videos")
    listed = args.cache / "videos.txt"
    listed.write_text("".join(f"{path}\n" for path in files))
    rows = []
    for run in range(1, args.repeat + 1):  # the two in turn: the machine's drift reaches both alike
        for workers in (0, args.workers):
            output = args.cache / f"preds_workers{workers}.jsonl"
            output.unlink(missing_ok=True)
            command = [sys.executable, "-m", "vidcls", "predict", "--checkpoint", str(checkpoint), "--list", str(listed),
                       "--clips", "1", "--crops", "1", "--workers", str(workers), "--output", str(output)]
            rows.append({"tool": "vidcls predict --output", "run": run, "workers": workers, **timed(command, output)})
            print(rows[-1], file=sys.stderr, flush=True)
    command = [sys.executable, "-c", PIPELINE, str(export), *map(str, files)]
    rows.append({"tool": "transformers.pipeline", "run": 1, "workers": 0, **timed(command, None)})
    print(rows[-1], file=sys.stderr, flush=True)
    parts = components(checkpoint, files, args.workers)
    print(parts, file=sys.stderr, flush=True)
    return rows, parts


def components(checkpoint: Path, files: list[Path], workers: int) -> dict:
    """Where a video's time goes, in this process, on the first 20 videos; how fast decoding in parallel can be at most.

    ``views_ms``: decoding and cropping a video's clip on one core; ``network_ms``: the network on
    one clip in batches of 8, with one thread and with all cores. With decoding in parallel the
    cores are shared, so at best every core is busy all the time, with nothing lost handing clips
    between processes: ``best_videos_per_s`` = cores / (views + network on one thread).
    """
    import torch

    from vidcls.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(checkpoint, num_clips=1, num_crops=1, device="cpu")
    cores = torch.get_num_threads()
    torch.set_num_threads(1)
    predictor.views(files[0])  # warm
    started = time.perf_counter()
    views = [predictor.views(path) for path in files[:20]]
    views_ms = (time.perf_counter() - started) / len(views) * 1000
    batches = [torch.cat(views[i : i + 8]) for i in range(0, len(views), 8)]
    network_ms = []
    with torch.inference_mode():
        for threads in (1, cores):
            torch.set_num_threads(threads)
            predictor.network(predictor.views.inputs(batches[0]).flatten(0, 1))  # warm
            started = time.perf_counter()
            for batch in batches:
                predictor.network(predictor.views.inputs(batch).flatten(0, 1))
            network_ms.append((time.perf_counter() - started) / len(views) * 1000)
    busy = min(cores, workers + 1)  # the workers and the network's process
    return {"views_ms": round(views_ms, 1), "network_1_thread_ms": round(network_ms[0], 1),
            "network_all_cores_ms": round(network_ms[1], 1), "cores": cores,
            "best_videos_per_s": round(1000 * busy / (views_ms + network_ms[0]), 2)}


def predict_rate(model: str, paths: list[Path], *, device: str, workers: int, batch_size: int, precision: str,
                 decode_device: str = "cpu", small: bool = False) -> dict:
    """Videos/s of ``Predictor.predict_many`` after the first video: a random ``model`` on its preset clip, one clip each.

    The GPU check's prediction figures (no checkpoint, no transformers: what its machine has);
    ``small`` shrinks the clip to 4 frames of 32² for a CPU dry run.
    """
    from dataclasses import replace

    from vidcls.data.decoding import DecoderSettings
    from vidcls.inference.predictor import Predictor
    from vidcls.models import build_model, get_preset

    clip = get_preset(model)
    if small:
        clip = replace(clip, num_frames=4, crop_size=32, eval_resize=36)
    classes = [f"class {i}" for i in range(400)]
    predictor = Predictor(build_model(model, len(classes)), clip, classes, num_clips=1, num_crops=1, batch_size=batch_size,
                          device=device, precision=precision, decoding=DecoderSettings(decode_device=decode_device))
    started = time.perf_counter()
    times = [time.perf_counter() for _ in predictor.predict_many(paths, workers=workers)]  # results are on the CPU: synced
    return {"videos": len(times), "videos_per_s": round(rate_after_first(times), 1), "first_video_s": round(times[0] - started, 2)}


def table(rows: list[dict]) -> str:
    """Markdown; "vs pipeline" is the pipeline's wall time over the row's."""
    pipeline = next(row for row in rows if row["tool"] == "transformers.pipeline")
    lines = ["| tool | run | decoding workers | videos | start-up s | videos/s after start-up | wall s | vs pipeline (wall) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {row['tool']} | {row['run']} | {row['workers']} | {row['videos']} | {row['startup_s']:.2f}"
              f" | {row['videos_per_s']:.2f} | {row['wall_s']:.2f} | {pipeline['wall_s'] / row['wall_s']:.2f}x |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="videos (default 200)")
    parser.add_argument("--size", choices=SIZES, default="small", help="the VideoMAE's size (default small)")
    parser.add_argument("--workers", type=int, default=cores, help=f"vidcls's parallel run (default: the cores, {cores})")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"videos and networks, made once (default {CACHE})")
    parser.add_argument("--repeat", type=int, default=1, help="vidcls's two runs, this many times in turn (default 1)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of the table")
    args = parser.parse_args()
    header = (f"{time.strftime('%Y-%m-%d %H:%M')}; {machine()}; {args.count} videos 340x256 10 s, one clip each;"
              f" VideoMAE {args.size} ({SIZES[args.size]}); load average {os.getloadavg()[0]:.2f} at start")
    rows, parts = measure(args)
    serial, parallel = ([row["videos_per_s"] for row in rows if row["tool"] != "transformers.pipeline" and row["workers"] == w]
                        for w in (0, args.workers))
    gains = [p / s for s, p in zip(serial, parallel)]
    best = parts["best_videos_per_s"]
    summary = (f"One video, in-process: views {parts['views_ms']} ms on one core; network {parts['network_1_thread_ms']} ms"
               f" on one thread, {parts['network_all_cores_ms']} ms on {parts['cores']} cores. {args.workers} workers:"
               f" {median(parallel):.2f} videos/s (median) of at most {best:.2f} (every core busy, nothing lost handing"
               f" clips over): {100 * median(parallel) / best:.0f}%. Over 0 workers, run by run:"
               f" {', '.join(f'{gain:.2f}x' for gain in gains)} (median {median(gains):.2f}x).")
    print(json.dumps({"header": header, "rows": rows, "components": parts}, indent=2) if args.json
          else f"{header}\n\n{table(rows)}\n\n{summary}")


if __name__ == "__main__":
    main()
