"""`vidcls data TOOL`: dataset tools, one subparser and one handler per tool."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

from vidcls.cli.progress import progress_bar
from vidcls.datatools.prepare import PrepareConfig, format_size, merge_lists, prepare_dataset
from vidcls.datatools.shards import Shard, parse_shard, shard_file
from vidcls.datatools.verify import (
    DEFAULT_JOBS,
    DEFAULT_TIMEOUT,
    ProbeOptions,
    default_manifest,
    find_videos,
    merge_manifests,
    probe_videos,
    summary,
    write_manifest,
)
from vidcls.errors import VidclsError


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="vidcls data", description="Dataset tools.")
    tools = parser.add_subparsers(dest="tool", required=True)
    _add_synth(tools)
    _add_kinetics(tools)
    _add_prepare(tools)
    _add_verify(tools)
    args = parser.parse_args(argv)
    return args.handler(args)


def _add_synth(tools: argparse._SubParsersAction) -> None:
    synth = tools.add_parser("synth", help="write the synthetic motion dataset (class-folder layout)")
    synth.add_argument("out", help="output folder")
    synth.add_argument("--train", type=int, default=40, help="videos per class in train (default 40)")
    synth.add_argument("--val", type=int, default=10, help="videos per class in val (default 10)")
    synth.add_argument("--test", type=int, default=25, help="videos per class in test (default 25)")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--workers", type=int, default=2, help="encoding processes (1: encode in this process)")
    synth.set_defaults(handler=_synth)


def _synth(args: argparse.Namespace) -> int:
    from vidcls.datatools.synthetic import CLASSES, SynthConfig, synthesize_dataset  # torch's encoder: only to write

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
    _add_sharding(kinetics, "the shards' reports into the lists, classes and report of one run; downloads nothing")
    kinetics.set_defaults(handler=_kinetics)


def _add_sharding(tool: argparse.ArgumentParser, merged: str) -> None:
    tool.add_argument("--shard", metavar="I/N", help="do only shard I of N (numbered from 0: a job array's task "
                      "index), writing files of its own (NAME.I-of-N.EXT), so N shards can run at once")
    tool.add_argument("--merge", action="store_true", help=f"after all shards: combine {merged}")


def _shard(args: argparse.Namespace) -> Shard | None:
    if args.merge and args.shard:
        raise VidclsError("--merge combines every shard: give it no --shard")
    return parse_shard(args.shard) if args.shard else None


def _kinetics(args: argparse.Namespace) -> int:
    from vidcls.datatools.kinetics.ingest import ingest
    from vidcls.datatools.kinetics.plan import format_summary, plan_kinetics
    from vidcls.datatools.kinetics.run import merge_shards

    shard = _shard(args)
    if args.merge and (args.dry_run or args.from_dir):
        raise VidclsError("--merge reads the shards' reports: give it no --dry-run or --from-dir")
    plan = plan_kinetics(args.csv, args.out, shard)
    if args.dry_run:
        summary = plan.summary()
        print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
        return 0
    if args.merge:
        counts = merge_shards(plan)
    elif args.from_dir:
        counts = ingest(plan, args.from_dir)
    else:
        # imported here: yt-dlp is slow to import and only downloads need it
        from vidcls.datatools.download import DEFAULT_FORMAT, YOUTUBE_URL, DownloadConfig, download_clips

        config = DownloadConfig(
            url_template=args.url_template or YOUTUBE_URL,
            jobs=args.jobs,
            retry_failed=args.retry_failed,
            format=args.format or DEFAULT_FORMAT,
        )
        with progress_bar("Downloading clips") as update:
            counts = download_clips(plan, config, update)
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"{args.out}: {statuses} (details: {plan.report_path})")
    return 0


def _add_prepare(tools: argparse._SubParsersAction) -> None:
    defaults = PrepareConfig()
    prepare = tools.add_parser(
        "prepare",
        help="re-encode videos for fast random clips (short side, frequent keyframes, no audio)",
        description="Writes every video of SRC (a dataset folder, or a list file: its rewritten copy goes to "
        "DST/<name>) to the same relative path under DST as H.264 MP4. A rerun keeps outputs newer than their "
        "input. A keyframe every 16 frames reads a random 2 s clip ~2x faster than x264's default (up to 250) "
        "for 10-30% more bytes; --gop 8 is a little faster and bigger, --gop 32 smaller and slower.",
    )
    prepare.add_argument("src", metavar="SRC", help="dataset folder (class folders at any depth) or list file")
    prepare.add_argument("dst", metavar="DST", help="output folder")
    prepare.add_argument("--short-side", type=int, default=defaults.short_side, help="never upscaled (default 256)")
    prepare.add_argument("--fps", type=float, help="output frame rate (default: the source's)")
    prepare.add_argument("--gop", type=int, default=defaults.gop, help="frames between keyframes (default 16)")
    prepare.add_argument("--crf", type=int, default=defaults.crf, help="x264 quality, lower is bigger (default 23)")
    prepare.add_argument("--preset", default=defaults.preset, help="x264 preset (default veryfast)")
    prepare.add_argument("--tune", default=defaults.tune,
                         help="x264 tune (default fastdecode: half the decode time, ~8%% more bytes; 'none' for x264's default)")
    prepare.add_argument("--jobs", type=int, default=defaults.jobs, help="parallel FFmpeg processes (default: CPUs)")
    _add_sharding(prepare, "the shards' rewritten lists into DST/<list name> (SRC a list file); encodes nothing")
    prepare.set_defaults(handler=_prepare)


def _prepare(args: argparse.Namespace) -> int:
    shard = _shard(args)
    if args.merge:
        list_file, left_out = merge_lists(args.src, args.dst)
        print(f"{list_file}: merged; {left_out} listed video(s) left out (they failed in their shard)")
        return 0
    tune = None if args.tune == "none" else args.tune
    config = PrepareConfig(args.short_side, args.fps, args.gop, args.crf, args.preset, tune, args.jobs)
    with progress_bar("Re-encoding videos") as update:
        result = prepare_dataset(args.src, args.dst, config, update, shard)
    for path, reason in result.failed:
        print(f"{path}: {reason}")
    listed = f"; list: {result.list_file}" if result.list_file else ""
    print(f"{args.dst}: {result.encoded} re-encoded, {result.skipped} up to date, {len(result.failed)} failed{listed}")
    print(f"size: {format_size(result.bytes_before)} before, {format_size(result.bytes_after)} after")
    return 1 if result.failed else 0


def _add_verify(tools: argparse._SubParsersAction) -> None:
    verify = tools.add_parser(
        "verify",
        help="open every video, read its first and last frame, write a manifest and list the bad files",
        description="ROOT_OR_LIST: a dataset folder (train/val/test class folders, or one split folder) or a "
        "list file. The manifest CSV (path,label,frames,fps,duration,width,height,ok,error) can be read back "
        "without its bad rows (vidcls.data.formats.lists.read_list_file). Exits 1 when a file is bad.",
    )
    verify.add_argument("source", metavar="ROOT_OR_LIST", help="dataset folder or list file")
    verify.add_argument("--manifest", metavar="PATH", help="default: ROOT/manifest.csv, or <list>_manifest.csv")
    verify.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help="parallel probes (default: CPUs)")
    verify.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per file (default 60)")
    verify.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    verify.add_argument("--allow-bad", action="store_true", help="exit 0 even when some files are bad")
    verify.add_argument("--full", action="store_true",
                        help="decode every frame: also finds damage in the middle of a file (slower)")
    verify.add_argument("--max-pixels", type=int, default=ProbeOptions.max_pixels, metavar="N",
                        help="a larger frame (width x height) is bad, not decoded (default 4096*4096; 0: no limit)")
    verify.add_argument("--max-duration", type=float, metavar="SECONDS",
                        help="a longer video is bad, not decoded (default: no limit)")
    _add_sharding(verify, "the shards' manifests into the manifest of one run; decodes nothing")
    verify.set_defaults(handler=_verify)


def _verify(args: argparse.Namespace) -> int:
    shard = _shard(args)
    manifest = Path(args.manifest or default_manifest(args.source))
    if args.merge:
        probes = merge_manifests(args.source, manifest)
    else:
        videos = find_videos(args.source, shard)
        with nullcontext() if args.json else progress_bar("Verifying videos") as update:  # JSON alone on stdout
            options = ProbeOptions(args.max_pixels or None, args.max_duration, args.full)
            probes = probe_videos(videos, args.jobs, args.timeout, update, options)
    manifest = write_manifest(probes, shard_file(manifest, shard))
    report = summary(probes, manifest)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for bad in report["bad_files"]:
            print(f"{bad['path']}: {bad['error']}")
        print(f"{report['total']} videos: {report['ok']} ok, {report['bad']} bad (manifest: {manifest})")
    return 1 if report["bad"] and not args.allow_bad else 0
