"""`vidcls bench data`: clips per second of the loader that `vidcls fit` would build."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="vidcls bench", description="Benchmarks.")
    tools = parser.add_subparsers(dest="tool", required=True)
    data = tools.add_parser(
        "data",
        help="time the training loader as fit builds it",
        description="Time the loader exactly as `vidcls fit` builds it from the same options. Other"
        " options (--config FILE, --data.*, --model.model) go to LightningCLI as for fit; a model"
        " with an input preset sets the clip settings left at their defaults, as in fit.",
    )
    data.add_argument("--data", required=True, dest="root", help="dataset root (class folders per split)")
    data.add_argument("--split", choices=("train", "val"), default="train", help="loader to time (default train)")
    data.add_argument("--clips", type=int, default=200, help="clips to time, after warm-up batches (default 200)")
    data.add_argument("--workers", type=int, default=0, help="DataLoader workers (default 0: one process)")
    data.add_argument("--json", action="store_true", help="print the result as JSON")
    args, fit_args = parser.parse_known_args(argv)
    return _data(args, fit_args)


def _data(args: argparse.Namespace, fit_args: list[str]) -> int:
    from vidcls.training.loader_bench import bench_data

    cli_args = [*fit_args, "--data.root", args.root, "--data.num_workers", str(args.workers)]
    result = bench_data(cli_args, split=args.split, clips=args.clips)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    shape = "×".join(map(str, result["batch_shape"]))
    print(f"{args.split} loader: {result['clips']} clips in {result['seconds']:.2f} s = {result['clips_per_s']:.2f} clips/s"
          f" (batch {shape}, {args.workers} workers)")
    for name, memory in (("main process", result["main_rss_mb"]), ("largest worker", result["worker_rss_mb"])):
        if memory:
            print(f"{name} RSS: {memory['start']:.0f} MB after warm-up, {memory['end']:.0f} MB at the end,"
                  f" peak {memory['peak']:.0f} MB")
    return 0
