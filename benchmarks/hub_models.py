"""VideoMAE ViT-B (16x224²) next to slow_r50 (8x224²): training clips/s and the memory each needs, in one run.

Each model trains in a fresh process (so each peak memory is its own) through the same Lightning
Trainer and VideoClassifier as `vidcls fit`, on random clips already in memory (model-only: the
training step, not decoding): forward, backward, optimiser step, timed after a warm-up
(``train_throughput.train_clips_per_s``). Memory: the process's peak resident set after training,
and that peak minus the resident set before the model was built (what the model's training needs).
VideoMAE is built from its configuration (transformers' defaults are ViT-B, 16 frames, 224²),
random weights: the speed and memory of fine-tuning ``MCG-NJU/videomae-base-finetuned-kinetics``.

    .venv/bin/python benchmarks/hub_models.py                      # CPU: batch 1, 3 timed steps each
    .venv/bin/python benchmarks/hub_models.py --device cuda --batch 8 --steps 20
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

MODELS = ("slow_r50", "videomae")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_one(args: argparse.Namespace) -> dict:
    """Train ``args.one`` in this process: clips/s and memory."""
    import logging
    import warnings

    import torch
    from torch.utils.data import DataLoader

    import train_throughput  # benchmarks/ is the script's folder, so on sys.path
    from vidcls.models import get_preset

    for name in ("lightning.pytorch", "lightning.fabric", "transformers"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads or len(os.sched_getaffinity(0)))
    clip = get_preset(args.one)
    before = current_rss_mb()
    args.classes = [f"class_{i}" for i in range(400)]  # a Kinetics-400 head
    args.amp, args.cache = "bf16", Path(__file__).resolve().parent / ".cache" / "hub_models"
    batch = {"video": torch.randn(args.batch, *clip.input_shape, device=args.device),
             "label": torch.randint(400, (args.batch,), device=args.device)}
    loader = DataLoader([batch] * (args.warmup + args.steps), batch_size=None)
    clips_per_s = train_throughput.train_clips_per_s(args, args.one, train_throughput.Switches(),
                                                     {"train_dataloaders": loader})
    peak = peak_rss_mb()
    row = {"model": args.one, "clip": f"{clip.num_frames}x{clip.crop_size}²", "batch": args.batch,
           "clips_per_s": round(clips_per_s, 3), "peak_rss_mb": round(peak), "training_mb": round(peak - before)}
    if args.device == "cuda":
        row["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3, help="timed training steps per model")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--threads", type=int, help="torch threads on CPU (default: every core)")
    parser.add_argument("--one", choices=MODELS, help=argparse.SUPPRESS)  # the child process's job
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args)))
        return
    header = (f"{time.strftime('%Y-%m-%d %H:%M')}; {len(os.sched_getaffinity(0))} cores; batch {args.batch},"
              f" {args.steps} steps timed after {args.warmup}; load average {os.getloadavg()[0]:.2f} at start")
    print(header, file=sys.stderr, flush=True)
    rows = []
    for model in MODELS:
        child = [sys.executable, __file__, "--one", model, *sys.argv[1:]]
        done = subprocess.run(child, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(rows[-1], file=sys.stderr, flush=True)
    lines = ["| model | clip | batch | training clips/s | peak resident MB | of which training MB |",
             "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['clip']} | {r['batch']} | {r['clips_per_s']:.3f} | {r['peak_rss_mb']} |"
              f" {r['training_mb']} |" for r in rows]
    print(f"{header}\n\n" + "\n".join(lines) + f"\n\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
