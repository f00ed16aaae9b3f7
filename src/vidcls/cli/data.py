"""`vidcls data TOOL`: dataset tools, one subparser and one handler per tool."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from vidcls.data.synthetic import CLASSES, SynthConfig, synthesize_dataset
from vidcls.progress import progress_bar


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="vidcls data", description="Dataset tools.")
    tools = parser.add_subparsers(dest="tool", required=True)
    _add_synth(tools)
    _add_kinetics(tools)
    args = parser.parse_args(argv)
    return args.handler(args)


def _add_synth(tools: argparse._SubParsersAction) -> None:
    synth = tools.add_parser("synth", help="write the synthetic motion dataset (class-folder layout)")
    synth.add_argument("out", help="output folder")
    synth.add_argument("--train", type=int, default=40, help="videos per class in train (default 40)")
    synth.add_argument("--val", type=int, default=10, help="videos per class in val (default 10)")
    synth.add_argument("--test", type=int, default=25, help="videos per class in test (default 25)")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--workers", type=int, default=2, help="encoding processes")
    synth.set_defaults(handler=_synth)


def _synth(args: argparse.Namespace) -> int:
    counts = {"train": args.train, "val": args.val, "test": args.test}
    with progress_bar("Synthesizing videos") as update:
        written = synthesize_dataset(args.out, counts, SynthConfig(seed=args.seed), args.workers, update)
    total = sum(counts.values()) * len(CLASSES)
    print(f"{args.out}: wrote {len(written)} videos ({total - len(written)} were already there)")
    return 0


def _add_kinetics(tools: argparse._SubParsersAction) -> None:
    kinetics = tools.add_parser(
        "kinetics",
        help="download Kinetics clips listed in the official CSVs, or lay out an existing copy",
        description="Clips go to DIR/<split>/<label folder>/<id>_<start>_<end>.mp4; exact labels in "
        "DIR/classes.txt, list files DIR/<split>.csv (train with --data.train_list DIR/train.csv "
        "--data.val_list DIR/val.csv --data.classes DIR/classes.txt), statuses in DIR/download_report.csv.",
    )
    kinetics.add_argument("--csv", action="append", required=True, metavar="FILE", help="official CSV (repeatable)")
    kinetics.add_argument("--out", required=True, metavar="DIR", help="dataset folder")
    kinetics.add_argument("--from-dir", metavar="FLAT", help="link clips from an existing copy (CVDF layout)")
    kinetics.add_argument("--jobs", type=int, default=4, help="parallel downloads (default 4)")
    kinetics.add_argument("--retry-failed", action="store_true", help="retry clips that failed or were unavailable")
    kinetics.add_argument("--url-template", help="URL with {youtube_id} (default: the YouTube watch URL)")
    kinetics.add_argument("--format", help="yt-dlp format selector (default: at most 480p)")
    kinetics.add_argument("--dry-run", action="store_true", help="print clips and classes per split, do nothing")
    kinetics.add_argument("--json", action="store_true", help="with --dry-run: print the plan as JSON")
    kinetics.set_defaults(handler=_kinetics)


def _kinetics(args: argparse.Namespace) -> int:
    import json

    from vidcls.data.kinetics import REPORT_NAME, format_summary, ingest, plan_kinetics

    plan = plan_kinetics(args.csv, args.out)
    if args.dry_run:
        summary = plan.summary()
        print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
        return 0
    if args.from_dir:
        counts = ingest(plan, args.from_dir)
    else:
        # imported here: yt-dlp and torch are slow to import and only downloads need them
        from vidcls.data.download import DEFAULT_FORMAT, YOUTUBE_URL, DownloadConfig, download_clips

        config = DownloadConfig(
            url_template=args.url_template or YOUTUBE_URL,
            jobs=args.jobs,
            retry_failed=args.retry_failed,
            format=args.format or DEFAULT_FORMAT,
        )
        with progress_bar("Downloading clips") as update:
            counts = download_clips(plan, config, update)
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"{args.out}: {statuses} (details: {plan.out / REPORT_NAME})")
    return 0
