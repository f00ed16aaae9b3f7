"""Training throughput on one device, model alone and whole pipeline, with each speed switch on and off.

Every number is clips per second of training (forward, backward, SGD step) through the same
Lightning Trainer and VideoClassifier that `vidcls fit` uses, timed after a warm-up:

- model-only: one batch of random clips, already on the device, served again and again;
- end-to-end: a VideoDataModule decoding synthetic videos, re-encoded by `vidcls data prepare`,
  with W DataLoader workers, as `vidcls fit` trains.

End-to-end / model-only says how data-bound training is (target on one GPU with 16 cores: >= 90 %).
Switches: cudnn.benchmark (--trainer.benchmark), channels_last (--model.channels_last),
amp (--trainer.precision bf16-mixed or 16-mixed), compile (--model.compile); "all" turns on every one.
cudnn.benchmark does nothing on CPU, so its row is left out there (channels_last_3d is oneDNN's fast
layout on CPU too). On a GPU
each figure also gives the training process's peak GPU memory (``torch.cuda.max_memory_allocated``).

Sizes: "full" is each model's published clip (slow_r50 8x224², x3d_m 16x224²) from 340x256 videos;
"small" keeps the frames at a 32² crop, for a CPU; "tiny" is for tests. Videos are generated once
into benchmarks/.cache.

    .venv/bin/python benchmarks/train_throughput.py                   # CPU, small: a few minutes
    .venv/bin/python benchmarks/train_throughput.py --device cuda     # GPU, full (a GPU machine)
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from torch.utils.data import DataLoader

from bench_common import machine, quiet_library_logs, training_table  # benchmarks/ is the script's folder
from vidcls.clip import resolve_clip
from vidcls.data.datamodule import VideoDataModule
from vidcls.datatools.prepare import prepare_dataset
from vidcls.datatools.synthetic import CLASSES, SynthConfig, synthesize_dataset
from vidcls.models import get_preset
from vidcls.training.classifier import VideoClassifier
from vidcls.training.run import link_run

CACHE = Path(__file__).resolve().parent / ".cache" / "train_throughput"
VIDEO_SECONDS = 3.0  # longer than the clips of every model with a preset (x3d_m's: 16 x 5 / 30 fps = 2.67 s)


@dataclass(frozen=True)
class Size:
    """Batch and clips of a run; ``crop``/``frames`` left ``None`` keep the model's preset."""

    batch: int
    video_height: int  # synthetic videos are 4:3, 30 fps like Kinetics
    steps: int  # timed steps unless --steps says otherwise
    crop: int | None = None
    frames: int | None = None


SIZES = {
    "full": Size(batch=8, video_height=256, steps=50),  # 8 clips per GPU as the Kinetics recipe
    "small": Size(batch=4, video_height=48, steps=10, crop=32),
    "tiny": Size(batch=2, video_height=48, steps=2, crop=32, frames=4),
}


@dataclass(frozen=True)
class Switches:
    benchmark: bool = False
    channels_last: bool = False
    amp: bool = False
    compile: bool = False


COMBINATIONS = {
    "baseline": Switches(),
    "cudnn.benchmark": Switches(benchmark=True),
    "channels_last": Switches(channels_last=True),
    "amp": Switches(amp=True),
    "compile": Switches(compile=True),
    "amp+channels_last": Switches(channels_last=True, amp=True),
    "all": Switches(benchmark=True, channels_last=True, amp=True, compile=True),
}
CUDA_ONLY = ("cudnn.benchmark",)  # on CPU it would repeat the baseline row
PRECISIONS = {"bf16": "bf16-mixed", "fp16": "16-mixed"}


class StepTimer(Callback):
    """Clips and seconds of the training steps after the first ``warmup``.

    The clock is read (after waiting for the GPU) only where the timed steps start and end: a wait
    at every step would stop data loading from overlapping the GPU's work.
    """

    def __init__(self, warmup: int, steps: int):
        self.warmup, self.steps = warmup, steps
        self.clips = 0
        self.marks: list[float] = []

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch: dict,
                           batch_idx: int) -> None:
        if batch_idx >= self.warmup:
            self.clips += len(batch["label"])
        if batch_idx in (self.warmup - 1, self.warmup + self.steps - 1):
            if pl_module.device.type == "cuda":
                torch.cuda.synchronize(pl_module.device)
            self.marks.append(time.perf_counter())

    @property
    def clips_per_s(self) -> float:
        if len(self.marks) < 2:
            raise SystemExit(f"training ended before step {self.warmup + self.steps}: too few videos for"
                             " --warmup + --steps batches")
        return self.clips / (self.marks[1] - self.marks[0])


def clip_settings(model: str, size: Size) -> dict:
    """The clip values the size gives (crop, frames), as VideoDataModule arguments; the rest is the model's preset
    (or ClipSpec's defaults for a model without one, such as simple3d)."""
    settings = {}
    if size.crop:
        crop = size.crop
        settings.update(crop_size=crop, min_scale=crop * 9 // 8, max_scale=crop * 5 // 4, eval_resize=crop * 9 // 8)
    if size.frames:
        settings["num_frames"] = size.frames
    return settings


def prepared_videos(cache: Path, size: Size, count: int) -> Path:
    """A dataset root with at least ``count`` training videos, synthesized and prepared once (later runs reuse them)."""
    height = size.video_height
    width = height * 4 // 3 // 2 * 2  # even: H.264 in yuv420p
    folder = cache / f"{width}x{height}_{VIDEO_SECONDS:g}s"
    config = SynthConfig(width=width, height=height, fps=30, duration=VIDEO_SECONDS)
    synthesize_dataset(folder / "raw", {"train": math.ceil(count / len(CLASSES))}, config, workers=os.cpu_count() or 1)
    prepare_dataset(folder / "raw", folder / "prepared")  # a keyframe every 16 frames: `vidcls data prepare`
    return folder / "prepared"


def train_clips_per_s(args: argparse.Namespace, model: str, switches: Switches, data: dict) -> tuple[float, float | None]:
    """Clips/s of ``args.steps`` training steps after ``args.warmup``, and the peak GPU memory in GiB (None on CPU).

    ``data`` holds fit's dataloader or datamodule. The memory is this process's: with GPU decoding
    the DataLoader workers hold their own.
    """
    L.seed_everything(0, verbose=False)
    # lr: only speed is measured; a small one keeps a batch seen again and again from diverging
    classifier = VideoClassifier(model, classes=args.classes, lr=0.01, channels_last=switches.channels_last,
                                 compile=switches.compile)
    timer = StepTimer(args.warmup, args.steps)
    trainer = L.Trainer(
        accelerator=args.device, devices=1, precision=PRECISIONS[args.amp] if switches.amp else "32-true",
        benchmark=switches.benchmark, max_epochs=1, limit_train_batches=args.warmup + args.steps,
        limit_val_batches=0, callbacks=[timer], logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=args.cache / "runs",
    )
    if "datamodule" in data:
        link_run(classifier, data["datamodule"])  # the data's clip, as vidcls fit decides it
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    trainer.fit(classifier, **data)
    peak_gib = torch.cuda.max_memory_allocated() / 2**30 if args.device == "cuda" else None
    del trainer, classifier, data  # the last references to the loader: gc ends its persistent workers
    gc.collect()
    torch._dynamo.reset()  # each compiled run starts from scratch (the disk cache still spares recompiling kernels)
    if args.device == "cuda":
        torch.cuda.empty_cache()
    return timer.clips_per_s, peak_gib


def measure(args: argparse.Namespace, model: str, combination: str, root: Path) -> dict:
    """One row: model-only and end-to-end clips/s for ``model`` with the switches of ``combination``."""
    settings = clip_settings(model, args.size)
    clip = resolve_clip(get_preset(model), settings)  # what the datamodule resolves at setup from the same values
    batch, frames, crop = args.size.batch, clip.num_frames, clip.crop_size
    switches = COMBINATIONS[combination]
    clips = {
        "video": torch.randn(batch, 3, frames, crop, crop, device=args.device),
        "label": torch.randint(len(args.classes), (batch,), device=args.device),
    }
    synthetic = DataLoader([clips] * (args.warmup + args.steps), batch_size=None)
    model_only, model_only_peak = train_clips_per_s(args, model, switches, {"train_dataloaders": synthetic})
    del clips, synthetic  # the batch would count in end-to-end's peak memory
    end_to_end, end_to_end_peak = train_clips_per_s(args, model, switches, {"datamodule": VideoDataModule(
        root=str(root), batch_size=batch, num_workers=args.workers, decode_device=args.decode_device, **settings)})
    row = {"model": model, "clip": f"{frames}x{crop}²", "batch": batch, "switches": combination,
           "model_only": round(model_only, 2), "end_to_end": round(end_to_end, 2),
           "ratio": round(end_to_end / model_only, 3), "workers": args.workers, "decode_device": args.decode_device,
           "model_only_peak_gib": _round(model_only_peak), "end_to_end_peak_gib": _round(end_to_end_peak)}
    print(f"{model} {row['clip']} {combination}: model-only {model_only:.2f}, end-to-end {end_to_end:.2f} clips/s",
          file=sys.stderr, flush=True)
    return row


def _round(gib: float | None) -> float | None:
    return None if gib is None else round(gib, 2)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options, with the defaults that depend on the device and the size filled in (``gpu_check.py`` reuses them)."""
    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--sizes", choices=SIZES, help="clip sizes (default: full on cuda, small on cpu)")
    parser.add_argument("--models", default="slow_r50,x3d_m", help="comma-separated (default slow_r50,x3d_m)")
    parser.add_argument("--switches", default=",".join(COMBINATIONS),
                        help=f"comma-separated of {', '.join(COMBINATIONS)} (default: all of them)")
    parser.add_argument("--steps", type=int, help="timed training steps per number (default: the size's)")
    parser.add_argument("--workers", type=int, default=max(cores - 1, 1),
                        help="DataLoader workers end-to-end (default: the cores but one for the main process)")
    parser.add_argument("--threads", type=int,
                        help="torch threads of the training process on CPU (default: the cores the workers leave;"
                             " more threads than free cores make every step wait for a descheduled one)")
    parser.add_argument("--warmup", type=int,
                        help="untimed steps first (default 2 x workers + 2: compiling, cuDNN autotuning, and the"
                             " batches the workers decode ahead meanwhile (2 each), which would flatter end-to-end)")
    parser.add_argument("--amp", choices=PRECISIONS, default="bf16", help="mixed precision of the amp switch")
    parser.add_argument("--decode-device", choices=("cpu", "cuda"), default="cpu", help="--data.decode_device")
    parser.add_argument("--data", type=Path, help="end-to-end on this dataset root (train/<class>/ videos, e.g. yours,"
                                                  " prepared) instead of synthetic videos")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"generated videos (default {CACHE})")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of the table")
    args = parser.parse_args(argv)
    args.size = SIZES[args.sizes or ("full" if args.device == "cuda" else "small")]
    args.steps = args.steps or args.size.steps
    args.warmup = max(args.warmup or 2 * args.workers + 2, 1)
    if args.device == "cpu":
        torch.set_num_threads(args.threads or max(cores - args.workers, 1))
    args.models = args.models.split(",")
    unknown = set(args.switches.split(",")) - set(COMBINATIONS)
    if unknown:
        parser.error(f"unknown switches: {', '.join(sorted(unknown))}")
    args.combinations = [name for name in args.switches.split(",") if args.device == "cuda" or name not in CUDA_ONLY]
    return args


def training_data(args: argparse.Namespace) -> Path:
    """The end-to-end dataset root (``--data``, or videos made once into the cache); sets ``args.classes`` from it."""
    root = args.data or prepared_videos(args.cache, args.size, (args.warmup + args.steps) * args.size.batch)
    args.classes = VideoDataModule(root=str(root)).classes
    return root


def main() -> None:
    args = parse_args()
    cores = len(os.sched_getaffinity(0))
    quiet_library_logs()
    gpu = f"; {torch.cuda.get_device_name()}" if args.device == "cuda" else ""
    header = (f"{time.strftime('%Y-%m-%d %H:%M')}; {machine()}{gpu}; torch {torch.__version__}, lightning"
              f" {L.__version__}; {args.steps} steps timed after {args.warmup}; {torch.get_num_threads()} threads,"
              f" {args.workers} workers;"
              f" load average {os.getloadavg()[0]:.2f} at start")
    print(header, file=sys.stderr, flush=True)
    root = training_data(args)
    rows = [measure(args, model, combination, root) for model in args.models for combination in args.combinations]
    footer = f"load average {os.getloadavg()[0]:.2f} at the end ({cores} cores: above that, other work shared them)"
    if args.json:
        print(json.dumps({"header": header, "size": asdict(args.size), "rows": rows, "footer": footer}, indent=2))
    else:
        print(f"{header}\n\nTraining clips/s on {args.device}\n\n{training_table(rows)}\n\n{footer}")


if __name__ == "__main__":
    main()
