"""The GPU check: decoding and training speed on one GPU, written to one JSON file and one markdown file.

``benchmarks/gpu_check.sh`` runs the parts below one after another, each in its own process under
a time limit, so a part that fails (no NVDEC, a compile too slow for the budget) costs only its
own figures. Every part appends records, one JSON object a line, to WORK/records.jsonl as each
figure is done; ``report`` turns them into OUT/gpu_check.json and OUT/gpu_check.md and runs after
every part, so an interrupted check still leaves its tables. A figure that fails is recorded with
its error and the next one runs; one that would end past the part's deadline is recorded as skipped.

- probe: the machine, the GPU, the library versions, which FFmpeg torchcodec and ``ffmpeg`` use;
- videos: everything it reads is made here: the synthetic training set re-encoded by ``vidcls data
  prepare`` (train_throughput's), and Kinetics-like clips as they come from YouTube (FFmpeg's
  testsrc2 with noise, x264 defaults: data_pipeline's) at 340x256 and at 1920x1080;
- decode: clips/s of the training loader ``vidcls fit`` builds (loader_bench.bench_data, as ``vidcls
  bench data``; decoding, train transforms, batching): the selective PyAV decoder on the CPU and
  torchcodec on the GPU, with 1 and 16 workers, on the raw clips with the tutorial's clip (8 frames
  over 2 s, batch 8); and on the training set with each model's own clip, which is what end-to-end
  training is fed: the loader alone against model-only says what bounds training;
- train: train_throughput's rows (model-only and end-to-end clips/s, peak GPU memory) for the
  switches and the decoding device given;
- predict: videos/s of ``Predictor.predict_many`` (what `vidcls predict --output` runs) over the raw
  340x256 clips, one clip per video, each model's preset clip: CPU decoding by the workers in fp32
  and bf16, GPU decoding in bf16 (predict_throughput.predict_rate).

Each part imports torch, vidcls and the other benchmarks when it runs, not at the top: ``report``
then starts at once, and works even where they do not import.

    benchmarks/gpu_check.sh OUT              # the GPU machine (its header says how to get the environment there)
    benchmarks/gpu_check.sh --dry-run OUT    # any CPU: the same parts at tiny sizes
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import importlib
import importlib.metadata
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench_common import machine, quiet_library_logs, training_table, workers_text  # benchmarks/ is the script's folder

GOAL = 0.9  # the project's goal: end-to-end training at least 90 % of model-only on one GPU with 16 cores
REPLACED = "Skipping unreadable video"  # what vidcls.data.dataset logs for every video it replaces


@dataclass(frozen=True)
class Plan:
    """What one check measures: "gpu" is the issue's, "dry-run" the same parts small enough for a 2-core CPU."""

    device: str
    size: str  # train_throughput's: "full" is each model's published clip, batch 8
    models: tuple[str, ...]
    workers: int  # DataLoader workers, end-to-end and in the decode part (with 1 worker too)
    raw_sets: dict[str, tuple[int, float]]  # FFmpeg WIDTHxHEIGHT: (videos, seconds each)
    clips_per_worker: int  # clips timed per decode figure, for each worker
    steps: int  # training steps timed per figure
    predict_passes: int  # times the raw 340x256 clips are predicted in one figure

    @property
    def worker_counts(self) -> list[int]:
        return sorted({1, self.workers})


PLANS = {
    # 32 raw 340x256 clips as data_pipeline.py reads, so its CPU figures compare; 8 of 1080p (~16 MB each):
    # random clips from 8 files cost what they cost from more; x264 took 3.8 core-s per second of this 1080p
    # (2-core VM here): 8 clips are ~20 s of the 16 cores
    "gpu": Plan(device="cuda", size="full", models=("slow_r50", "x3d_m"), workers=16,
                raw_sets={"340x256": (32, 10), "1920x1080": (8, 10)}, clips_per_worker=32, steps=40, predict_passes=8),
    "dry-run": Plan(device="cpu", size="tiny", models=("slow_r50", "x3d_m"), workers=1,
                    raw_sets={"340x256": (2, 10), "1920x1080": (1, 2)}, clips_per_worker=4, steps=2, predict_passes=1),
}


class Records:
    """WORK/records.jsonl: one JSON object a line, appended as each figure is done (a killed part keeps the ones before)."""

    def __init__(self, path: Path):
        self.path = path

    def add(self, record: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        print(json.dumps(record), file=sys.stderr, flush=True)  # progress in the log

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class Figure:
    """One measurement: its labels, what measures it, and why it is skipped (None: it runs)."""

    labels: dict
    measure: Callable[[], dict]
    skip: str | None = None


def run_figures(records: Records, part: str, figures: list[Figure], deadline: float) -> None:
    """Measure each figure in turn; record a failure and go on; start none that would end past ``deadline``.

    A figure is expected to take as long as the one before it: a guess, but the figures of a part
    come in similar runs, and the part's time limit still stops one that takes longer.
    """
    expected = 0.0
    for figure in figures:
        if figure.skip:
            records.add({"part": part, **figure.labels, "skipped": figure.skip})
            continue
        if time.time() + expected > deadline:
            records.add({"part": part, **figure.labels,
                         "skipped": f"out of time: {deadline - time.time():.0f} s left, the last figure took {expected:.0f} s"})
            continue
        started = time.time()
        try:
            records.add({"part": part, **figure.labels, **figure.measure()})
        except (Exception, SystemExit) as error:  # train_throughput exits when an epoch has too few batches
            records.add({"part": part, **figure.labels, "error": one_line(error)})
            gc.collect()  # end a failed loader's workers before the next figure starts its own
        expected = time.time() - started


def one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:400]


def probe(plan: Plan, records: Records) -> None:
    """Where the figures come from: machine, GPU, versions, and the FFmpeg that each decoder really uses."""
    import torch

    info = {"part": "probe", "plan": plan.device, "date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(),
            "cores": len(os.sched_getaffinity(0)), "load_average": os.getloadavg()[0],
            "python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda}
    for dist in ("torchvision", "lightning", "torchcodec", "av", "pytorchvideo", "jsonargparse", "torchdata"):
        info[dist] = _attempt(lambda dist=dist: importlib.metadata.version(dist))
    if torch.cuda.is_available():
        gpu = torch.cuda.get_device_properties(0)
        info["gpu"] = (f"{gpu.name}, {gpu.total_memory / 2**30:.0f} GiB, {gpu.multi_processor_count} SMs,"
                       f" compute capability {gpu.major}.{gpu.minor}")
        info["nvidia_smi"] = _attempt(lambda: _first_line(["nvidia-smi", "--format=csv,noheader",
                                                           "--query-gpu=driver_version,clocks.max.sm,power.limit"]))
    else:
        info["gpu"] = "none: CUDA is not available"
    info["pyav_ffmpeg"] = _attempt(lambda: importlib.import_module("av").ffmpeg_version_info)
    info["torchcodec_ffmpeg_major"] = _attempt(lambda: importlib.import_module("torchcodec").ffmpeg_major_version)
    info["ffmpeg_command"] = _attempt(lambda: f"{shutil.which('ffmpeg')}: {_first_line(['ffmpeg', '-version'])}")
    info["libnvcuvid"] = _attempt(lambda: ctypes.CDLL("libnvcuvid.so.1") and "loads")  # NVDEC's user-space library
    records.add(info)


def _attempt(read: Callable[[], object]) -> object:
    try:
        return read()
    except Exception as error:
        return f"not available ({one_line(error)})"


def _first_line(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout.splitlines()[0]


def raw_root(work: Path, size: str) -> Path:
    return work / "cache" / "raw" / size


def train_args(plan: Plan, work: Path, switches: str = "baseline", decode_device: str = "cpu") -> argparse.Namespace:
    """train_throughput's options for this plan (and so its training set, made once into WORK/cache)."""
    import train_throughput

    return train_throughput.parse_args([
        "--device", plan.device, "--sizes", plan.size, "--models", ",".join(plan.models), "--switches", switches,
        "--steps", str(plan.steps), "--workers", str(plan.workers), "--decode-device", decode_device,
        "--cache", str(work / "cache")])


def videos(plan: Plan, work: Path, records: Records) -> None:
    """The training set first (the training rows need it most), then the raw clips."""
    import train_throughput
    from data_pipeline import make_raw_clips

    started = time.time()
    root = train_throughput.training_data(train_args(plan, work))
    records.add({"part": "videos", "set": "training set, prepared", "root": str(root),
                 "videos": sum(1 for _ in (root / "train").rglob("*.mp4")), "seconds": round(time.time() - started, 1)})
    for size, (count, seconds) in plan.raw_sets.items():
        started = time.time()
        make_raw_clips(raw_root(work, size), count, size=size, seconds=seconds)
        records.add({"part": "videos", "set": f"{size} raw", "videos": count, "video_seconds": seconds,
                     "seconds": round(time.time() - started, 1)})


def gpu_decoding_problem(video: Path) -> str | None:
    """Why torchcodec cannot decode ``video`` on the GPU here, or None: the GPU-decoding figures are skipped at once."""
    import torch

    if not torch.cuda.is_available():
        return "CUDA is not available"
    from vidcls.data.decoding import VideoReader

    try:
        with VideoReader(video, device="cuda") as reader:
            reader.frames_at([0.0, 0.5])
    except Exception as error:
        return f"torchcodec cannot decode {video.name} on the GPU: {one_line(error)}"
    return None


def decode(plan: Plan, work: Path, records: Records, deadline: float) -> None:
    """Training-loader clips/s: each model's training data, then the raw clips; CPU and GPU decoding."""
    import train_throughput
    from data_pipeline import VIDCLS_ARGS
    from vidcls.training.loader_bench import bench_data

    args = train_args(plan, work)
    training_root = train_throughput.training_data(args)
    gpu_problem = gpu_decoding_problem(next((training_root / "train").rglob("*.mp4")))

    def figure(labels: dict, cli_args: list[str], workers: int, device: str) -> Figure:
        cli_args = [*cli_args, "--data.num_workers", str(workers), "--data.decode_device", device]
        labels = {**labels, "decoding": "torchcodec, GPU" if device == "cuda" else "selective PyAV, CPU",
                  "device": device, "workers": workers}
        clips = plan.clips_per_worker * workers

        def measure() -> dict:
            result = bench_data(cli_args, clips=clips)
            return {key: result[key] for key in ("clips_per_s", "clips", "seconds", "worker_rss_mb", "batch_shape")}

        return Figure(labels, measure, skip=gpu_problem if device == "cuda" else None)

    def training_loaders(device: str) -> list[Figure]:
        """The loader each end-to-end row reads: the model's clip, the batch and workers of train_throughput."""
        figures = []
        for model in plan.models:
            settings = train_throughput.clip_settings(model, args.size)
            cli_args = ["--model.model", model, "--data.root", str(training_root),
                        "--data.batch_size", str(args.size.batch),
                        *(item for key, value in settings.items() for item in (f"--data.{key}", str(value)))]
            figures.append(figure({"video": "training set, prepared", "clip": model}, cli_args, plan.workers, device))
        return figures

    figures = training_loaders("cpu")
    for size in plan.raw_sets:
        for device in ("cpu", "cuda"):
            for workers in plan.worker_counts:
                cli_args = [*VIDCLS_ARGS, "--data.root", str(raw_root(work, size))]
                figures.append(figure({"video": f"{size} raw", "clip": "the tutorial"}, cli_args, workers, device))
    figures += training_loaders("cuda")
    run_figures(records, "decode", figures, deadline)


def train(plan: Plan, work: Path, records: Records, deadline: float, switches: str, decode_device: str) -> None:
    """train_throughput rows, switches first and models second, so an early stop still has both models."""
    import train_throughput

    args = train_args(plan, work, switches, decode_device)
    root = train_throughput.training_data(args)
    problem = gpu_decoding_problem(next((root / "train").rglob("*.mp4"))) if decode_device == "cuda" else None
    figures = [Figure({"model": model, "switches": combination, "decode_device": decode_device, "workers": args.workers},
                      lambda model=model, combination=combination: train_throughput.measure(args, model, combination, root),
                      skip=problem)
               for combination in args.combinations for model in plan.models]
    run_figures(records, "train", figures, deadline)


def predict(plan: Plan, work: Path, records: Records, deadline: float) -> None:
    """Prediction videos/s: CPU decoding in fp32 and bf16, then GPU decoding (in the main process) in bf16."""
    import torch

    from predict_throughput import predict_rate

    files = sorted(raw_root(work, "340x256").rglob("*.mp4")) * plan.predict_passes
    no_cuda = "CUDA is not available" if plan.device == "cuda" and not torch.cuda.is_available() else None
    gpu_problem = gpu_decoding_problem(files[0])
    figures = []
    for model in plan.models:
        for decode_device, precision, workers in (("cpu", "32", plan.workers), ("cpu", "bf16", plan.workers), ("cuda", "bf16", 0)):
            labels = {"model": model, "decode_device": decode_device, "precision": precision, "workers": workers,
                      "batch": 16}
            figures.append(Figure(labels, lambda model=model, decode_device=decode_device, precision=precision, workers=workers:
                                  predict_rate(model, files, device=plan.device, workers=workers, batch_size=16,
                                               precision=precision, decode_device=decode_device, small=plan.size == "tiny"),
                                  skip=no_cuda or (gpu_problem if decode_device == "cuda" else None)))
    run_figures(records, "predict", figures, deadline)


def report(records: Records, out: Path, log: Path | None) -> None:
    """OUT/gpu_check.json (every record, grouped) and OUT/gpu_check.md (the tables)."""
    by_part: dict[str, list[dict]] = {}
    for record in records.read():
        by_part.setdefault(record.get("part", "steps"), []).append(record)
    probe_info = (by_part.get("probe") or [{}])[0]
    goal_rows = goal(by_part.get("train", []), by_part.get("decode", []))
    replaced = log.read_text(errors="replace").count(REPLACED) if log and log.exists() else None
    result = {"probe": probe_info, "steps": by_part.get("steps", []), "videos": by_part.get("videos", []),
              "decode": by_part.get("decode", []), "train": by_part.get("train", []), "goal": goal_rows,
              "predict": by_part.get("predict", []),
              "videos_replaced_as_unreadable": replaced}
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (out / "gpu_check.md").write_text(markdown(result), encoding="utf-8")


def goal(train_rows: list[dict], decode_rows: list[dict]) -> list[dict]:
    """End-to-end / model-only of every measured row, with the loader alone on the same data to say what bounds it."""
    loaders = {(row["clip"], row["device"], row["workers"]): row["clips_per_s"] for row in decode_rows
               if row.get("video") == "training set, prepared" and "clips_per_s" in row}
    rows = []
    for row in train_rows:
        if "ratio" not in row:
            continue
        loader = loaders.get((row["model"], row["decode_device"], row["workers"]))
        rows.append({"model": row["model"], "switches": row["switches"], "decode_device": row["decode_device"],
                     "workers": row["workers"], "ratio": row["ratio"], "model_only": row["model_only"],
                     "loader_alone": loader, "bound": bound(row, loader)})
    return rows


def bound(row: dict, loader: float | None) -> str:
    """What the figures say limits end-to-end training (a reading of them, spelled out so it can be checked)."""
    if row["ratio"] >= GOAL:
        return "met"
    if loader is None:
        return "not met; no loader figure on the same data to tell why"
    if loader < row["model_only"]:
        return (f"not met: the loader alone gives {loader:.0f} clips/s, under model-only {row['model_only']:.0f}:"
                " bound by decoding and the train transforms")
    where = ("decoding shares the GPU with training" if row["decode_device"] == "cuda"
             else "host-to-device copies, or the training process waiting on batches")
    return (f"not met, though the loader alone keeps up ({loader:.0f} clips/s against model-only"
            f" {row['model_only']:.0f}): bound in the training step itself ({where})")


def markdown(result: dict) -> str:
    probe_info = result["probe"]
    lines = [f"# GPU check, {probe_info.get('date', 'no probe record')}", ""]
    if probe_info:
        lines += [f"{probe_info['machine']}; GPU: {probe_info['gpu']}; driver, max SM clock, power limit:"
                  f" {probe_info.get('nvidia_smi', '–')}. Python {probe_info['python']}, torch {probe_info['torch']}"
                  f" (CUDA {probe_info['cuda']}), torchvision {probe_info['torchvision']}, lightning"
                  f" {probe_info['lightning']}, torchcodec {probe_info['torchcodec']} (on FFmpeg"
                  f" {probe_info['torchcodec_ffmpeg_major']}), PyAV {probe_info['av']} (FFmpeg {probe_info['pyav_ffmpeg']}),"
                  f" pytorchvideo {probe_info['pytorchvideo']}; `ffmpeg`: {probe_info['ffmpeg_command']}; libnvcuvid:"
                  f" {probe_info['libnvcuvid']}; load average {probe_info['load_average']:.2f} at the start.", ""]
    lines += ["## Steps", "", "| step | status | seconds |", "|---|---|---:|"]
    lines += [f"| {step['step']} | {step['status']} | {step.get('seconds', '')} |" for step in result["steps"]]
    lines += ["", "## Training loader, clips/s (decoding, train transforms, batching: `vidcls bench data`)", "",
              "| video | clip of | decoding | workers | clips/s | largest worker RSS, MB |", "|---|---|---|---:|---:|---:|"]
    for row in result["decode"]:
        rss = (row.get("worker_rss_mb") or {}).get("peak", "–")
        lines.append(f"| {row['video']} | {row['clip']} | {row['decoding']} | {row['workers']} | {_value(row)} | {rss} |")
    measured = [row for row in result["train"] if "ratio" in row]
    lines += ["", "## Training clips/s", "", training_table(measured) if measured else "(no row measured)"]
    missing = [row for row in result["train"] if "ratio" not in row]
    if missing:
        lines += ["", "Not measured:", ""]
        lines += [f"- {row['model']}, {row['switches']}, {workers_text(row['workers'])}, {row['decode_device']} decoding:"
                  f" {row.get('error') or row.get('skipped')}" for row in missing]
    lines += ["", f"## End-to-end / model-only (goal: at least {GOAL:.0%})", "",
              "| model | switches | data | end-to-end / model-only | model-only clips/s | loader alone, clips/s | reading |",
              "|---|---|---|---:|---:|---:|---|"]
    for row in result["goal"]:
        loader = "–" if row["loader_alone"] is None else f"{row['loader_alone']:.1f}"
        lines.append(f"| {row['model']} | {row['switches']} | {workers_text(row['workers'])}, {row['decode_device']} decoding"
                     f" | {row['ratio']:.0%} | {row['model_only']:.1f} | {loader} | {row['bound']} |")
    lines += ["", "## Prediction, videos/s (`Predictor.predict_many`: 340x256 raw clips, one clip each, batch 16)", "",
              "| model | decoding | precision | workers | videos/s after the first batch | first video, s |", "|---|---|---|---:|---:|---:|"]
    lines += [f"| {row['model']} | {row['decode_device']} | {row['precision']} | {row['workers']} | "
              + (f"{row['videos_per_s']:.1f} | {row['first_video_s']:.2f} |" if "videos_per_s" in row else f"{_value(row)} | |")
              for row in result.get("predict", [])]
    replaced = result["videos_replaced_as_unreadable"]
    lines += ["", f"Videos replaced as unreadable during the check (the log's \"{REPLACED}\" lines):"
                  f" {'not counted' if replaced is None else replaced}."]
    return "\n".join(lines) + "\n"


def _value(row: dict) -> str:
    if "clips_per_s" in row:
        return f"{row['clips_per_s']:.1f}"
    return f"{'error' if 'error' in row else 'skipped'}: {row.get('error') or row.get('skipped')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=("probe", "videos", "decode", "train", "predict", "report"))
    parser.add_argument("--plan", choices=PLANS, default="gpu")
    parser.add_argument("--work", type=Path, required=True, help="records.jsonl and the generated videos (cache/)")
    parser.add_argument("--deadline", type=float, default=math.inf,
                        help="Unix time: no figure starts that would end later (the part's own time limit)")
    parser.add_argument("--switches", default="baseline", help="train: train_throughput's switch combinations")
    parser.add_argument("--decode-device", choices=("cpu", "cuda"), default="cpu", help="train: where clips are decoded")
    parser.add_argument("--out", type=Path, help="report: the folder for gpu_check.json and gpu_check.md")
    parser.add_argument("--log", type=Path, help="report: the check's log, to count replaced videos")
    args = parser.parse_args()
    plan, records = PLANS[args.plan], Records(args.work / "records.jsonl")
    if args.part == "report":
        report(records, args.out, args.log)
        return
    quiet_library_logs()
    if args.part == "probe":
        probe(plan, records)
    elif args.part == "videos":
        videos(plan, args.work, records)
    elif args.part == "decode":
        decode(plan, args.work, records, args.deadline)
    elif args.part == "predict":
        predict(plan, args.work, records, args.deadline)
    else:
        train(plan, args.work, records, args.deadline, args.switches, args.decode_device)


if __name__ == "__main__":
    main()
