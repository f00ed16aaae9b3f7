"""The training data pipeline side by side, on the same files, on one core.

Columns: the tutorial's pipeline (PyTorchVideo's ``Kinetics`` dataset with its train transforms),
vidcls's training loader as ``vidcls fit`` builds it, vidcls's decode stage alone, and FFmpeg's
decode floor. Rows: (a) Kinetics-like clips as they come (FFmpeg's default keyframe interval)
and (b) the same after ``vidcls data prepare``. Every pipeline takes random 2 s clips of 8 frames
and the tutorial's transforms (short side to [256, 320], crop 224, flip, normalise), batch 8; one
vidcls row adds the VideoMAE recipe's augmentations (RandAugment m7 n4, random erasing 0.25).

The clips are generated (10 s, 340x256, 30 fps, H.264 at FFmpeg's defaults: keyframe every 250
frames, B-frames; textured moving content with per-frame noise, which decodes at the cost of a
real Kinetics clip of that size) into ``benchmarks/.cache`` and reused by later runs.

    .venv/bin/python benchmarks/data_pipeline.py                # the figures in RESULTS.md
    .venv/bin/python benchmarks/data_pipeline.py --clips 40     # a quick look
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import torch
from torch.utils.data import DataLoader

from bench_common import machine, quiet_library_logs  # benchmarks/ is the script's folder, so on sys.path
from vidcls.data.decoding import VideoReader
from vidcls.data.formats.folders import scan_class_folders
from vidcls.data.sampling import clip_frame_times, random_clip_start
from vidcls.data.selective import SelectiveDecoder
from vidcls.training.loader_bench import bench_data, time_loader

CACHE = Path(__file__).resolve().parent / ".cache"
CLIP_SECONDS, FRAMES, BATCH = 2.0, 8, 8
# The tutorial's clip settings, given explicitly; simple3d has no input preset that would replace them.
VIDCLS_ARGS = ["--model.model", "simple3d", "--data.clip_duration", str(CLIP_SECONDS),
               "--data.num_frames", str(FRAMES), "--data.batch_size", str(BATCH)]
TUTORIAL = "tutorial (PyTorchVideo Kinetics + transforms)"
# configs/finetune_videomae.yaml's augmentations
AUGMENTED = ["--data.randaug_ops", "4", "--data.randaug_magnitude", "7", "--data.erase_prob", "0.25"]
Clip = tuple[Path, list[float]]


def make_raw_clips(root: Path, videos: int, classes: int = 4, size: str = "340x256", seconds: float = 10) -> None:
    """Kinetics-like clips in class folders (``root/train/class_k/clip_n.mp4``); existing ones are kept.

    ``size`` is FFmpeg's WIDTHxHEIGHT: Kinetics' 340x256 by default (the GPU check also reads 1920x1080).
    """
    jobs = []
    for n in range(videos):
        out = root / "train" / f"class_{n % classes}" / f"clip_{n:03d}.mp4"
        if not out.exists():
            jobs.append((n, out))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(lambda job: _encode_clip(*job, size, seconds), jobs))


def _encode_clip(n: int, out: Path, size: str, seconds: float) -> None:
    # testsrc2 moves; the hue varies per clip; temporal noise makes it decode like camera footage
    source = (f"testsrc2=size={size}:rate=30:duration={seconds:g},hue=h={n * 37 % 360},"
              f"noise=alls=8:allf=t:all_seed={n}")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.partial.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-an", str(partial)], check=True)
    partial.rename(out)


def prepare(raw: Path, prepared: Path) -> None:
    """`vidcls data prepare RAW PREPARED`: short side 256, short keyframe interval (its defaults)."""
    subprocess.run([sys.executable, "-m", "vidcls", "data", "prepare", str(raw), str(prepared)], check=True,
                   stdout=subprocess.DEVNULL)


def draw_clips(root: Path, count: int, seed: int = 0) -> list[Clip]:
    """Random clips as vidcls's training sampler draws them, drawn once so every decoder reads the same."""
    generator = torch.Generator().manual_seed(seed)
    paths = [video.path for video in scan_class_folders(root / "train")]
    clips = []
    for _ in range(count):
        path = paths[int(torch.randint(len(paths), (), generator=generator))]
        info = VideoReader(path).info
        start = random_clip_start(info, CLIP_SECONDS, generator)
        clips.append((path, clip_frame_times(start, CLIP_SECONDS, FRAMES, info.fps)))
    return clips


def tutorial_loader(root: Path) -> DataLoader:
    """The tutorial's training data: PyTorchVideo's Kinetics dataset with its exact train transform."""
    import torchvision.transforms._functional_tensor as functional_tensor

    # pytorchvideo.transforms imports a module torchvision renamed; alias it for this baseline only
    sys.modules.setdefault("torchvision.transforms.functional_tensor", functional_tensor)
    from pytorchvideo.data import Kinetics, make_clip_sampler
    from pytorchvideo.transforms import (
        ApplyTransformToKey,
        Normalize,
        RandomShortSideScale,
        UniformTemporalSubsample,
    )
    from torchvision.transforms import Compose, Lambda, RandomCrop, RandomHorizontalFlip

    transform = Compose([
        UniformTemporalSubsample(FRAMES),
        Lambda(lambda x: x / 255.0),
        Normalize((0.45, 0.45, 0.45), (0.225, 0.225, 0.225)),
        RandomShortSideScale(min_size=256, max_size=320),
        RandomCrop(224),
        RandomHorizontalFlip(p=0.5),
    ])
    dataset = Kinetics(
        data_path=str(root / "train"),
        clip_sampler=make_clip_sampler("random", CLIP_SECONDS),
        decode_audio=False,
        transform=ApplyTransformToKey(key="video", transform=transform),
    )
    return DataLoader(dataset, batch_size=BATCH, num_workers=0)


def floor_keyframe_to_last(path: Path, times: Sequence[float]) -> None:
    """Every frame from the keyframe before the first needed frame to the last needed one; no conversion."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        first, last = (int(t / stream.time_base) for t in (min(times), max(times)))
        container.seek(first, stream=stream, backward=True)
        for frame in container.decode(stream):
            if frame.pts >= last:
                break


def floor_needed_only(path: Path, times: Sequence[float]) -> None:
    """Only the frames the needed frames depend on (keyframe, reference frames), decoded; no conversion."""
    decoder = SelectiveDecoder.open(path)
    decoder.decode(times)
    decoder.container.close()


def vidcls_decode(path: Path, times: Sequence[float]) -> None:
    """vidcls's decode stage as the dataset runs it: open, read the frames, RGB uint8 tensor."""
    with VideoReader(path) as reader:
        reader.frames_at(times)


def torchcodec_decode(path: Path, times: Sequence[float]) -> None:
    with VideoReader(path, decoder="torchcodec") as reader:
        reader.frames_at(times)


def ms_per_clip(read: Callable[[Path, Sequence[float]], None], clips: list[Clip]) -> float:
    read(*clips[0])  # warm-up
    started = time.perf_counter()
    for path, times in clips:
        read(path, times)
    return (time.perf_counter() - started) / len(clips) * 1000


def transform_ms() -> dict[str, float]:
    """One 8x3x256x340 clip through vidcls's TrainPreset and through torchvision's resize-then-crop chain."""
    from torchvision.transforms import v2

    from vidcls.data.transforms import TrainPreset

    resize_then_crop = v2.Compose([
        v2.RandomResize(256, 321, antialias=True), v2.RandomCrop(224), v2.RandomHorizontalFlip(0.5),
        v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.45] * 3, [0.225] * 3),
    ])
    clip = torch.randint(0, 256, (FRAMES, 3, 256, 340), dtype=torch.uint8)
    result = {}
    augmented = TrainPreset(randaug_ops=4, randaug_magnitude=7, erase_prob=0.25)
    for name, transform in (("vidcls TrainPreset (crop, then resize)", TrainPreset()),
                            ("torchvision resize, then crop", resize_then_crop),
                            ("vidcls TrainPreset + RandAugment m7 n4 + random erasing 0.25", augmented)):
        transform(clip)
        started = time.perf_counter()
        for _ in range(50):
            transform(clip)
        result[name] = (time.perf_counter() - started) / 50 * 1000
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=200, help="clips timed per column and file set (default 200)")
    parser.add_argument("--videos", type=int, default=32, help="generated clips (default 32)")
    parser.add_argument("--memory-clips", type=int, default=2000,
                        help="clips of the worker-memory run, 2 workers (default 2000; 0 skips it)")
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)), help="the core to run on")
    args = parser.parse_args()

    os.sched_setaffinity(0, {args.cpu})  # one core for everything: decoder threads and workers share it
    torch.set_num_threads(1)
    quiet_library_logs()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}; {machine()}; pinned to core {args.cpu};"
          f" load average {os.getloadavg()[0]:.2f} at start")
    roots = {"raw": CACHE / "raw", "prepared": CACHE / "prepared"}
    make_raw_clips(roots["raw"], args.videos)
    prepare(roots["raw"], roots["prepared"])

    loaders: dict[str, dict[str, float]] = {}
    decode: dict[str, dict[str, float]] = {}
    for name, root in roots.items():
        torch.manual_seed(0)
        column = loaders.setdefault(name, {})
        column[TUTORIAL] = time_loader(tutorial_loader(root), args.clips).clips_per_s
        for label, extra in (("vidcls", []), ("vidcls, decoder=torchcodec", ["--data.decoder", "torchcodec"]),
                             ("vidcls, clips_per_video=2", ["--data.clips_per_video", "2"]),
                             ("vidcls, RandAugment m7 n4 + random erasing 0.25", AUGMENTED)):
            torch.manual_seed(0)
            cli_args = [*VIDCLS_ARGS, *extra, "--data.root", str(root), "--data.num_workers", "0"]
            column[label] = bench_data(cli_args, clips=args.clips)["clips_per_s"]
        clips = draw_clips(root, args.clips)
        decode[name] = {
            "FFmpeg floor: every frame, keyframe to last needed": ms_per_clip(floor_keyframe_to_last, clips),
            "FFmpeg floor: needed frames only": ms_per_clip(floor_needed_only, clips),
            "vidcls decode stage (pyav, RGB tensor)": ms_per_clip(vidcls_decode, clips),
            "torchcodec get_frames_played_at (RGB tensor)": ms_per_clip(torchcodec_decode, clips),
        }
    report(loaders, decode, args.clips)

    for name, ms in transform_ms().items():
        print(f"transform, {name}: {ms:.2f} ms per clip")
    if args.memory_clips:
        memory_args = [*VIDCLS_ARGS, "--data.root", str(roots["prepared"]), "--data.num_workers", "2"]
        result = bench_data(memory_args, clips=args.memory_clips)
        rss = result["worker_rss_mb"]
        print(f"worker memory over {result['clips']} clips (2 workers, prepared files): largest worker RSS"
              f" {rss['start']:.0f} MB after warm-up, {rss['end']:.0f} MB at the end, peak {rss['peak']:.0f} MB")
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) after the one-core runs: above ~1, other work shared the core")
    all_cores(roots, args.clips)


def all_cores(roots: dict[str, Path], clips: int) -> None:
    """Decoder threads versus DataLoader workers, with every core of the machine."""
    os.sched_setaffinity(0, range(os.cpu_count() or 1))
    cores = len(os.sched_getaffinity(0))
    print(f"\nAll {cores} cores, clips/s ({clips} clips each)\n\n| workers x decoder threads | raw files | prepared files |"
          "\n|---|---:|---:|")
    for workers, threads in ((cores, 1), (1, cores), (0, cores)):
        extra = ["--data.num_workers", str(workers), "--data.decoder_threads", str(threads)]
        cells = [bench_data([*VIDCLS_ARGS, "--data.root", str(root), *extra], clips=clips)["clips_per_s"]
                 for root in roots.values()]
        print(f"| {workers} x {threads} | {cells[0]:.1f} | {cells[1]:.1f} |")


def report(loaders: dict[str, dict[str, float]], decode: dict[str, dict[str, float]], clips: int) -> None:
    """Markdown tables with ratios, then the issue's targets."""
    tutorial_raw = loaders["raw"][TUTORIAL]
    print(f"\nLoaders, clips/s on one core ({clips} clips each; x: vs the tutorial on the same files; raw x: vs the"
          f" tutorial on raw files)\n")
    print("| pipeline | raw files | prepared files |\n|---|---:|---:|")
    for label in loaders["raw"]:
        cells = []
        for name in ("raw", "prepared"):
            value = loaders[name][label]
            tutorial = loaders[name][TUTORIAL]
            cells.append(f"{value:.1f}" if label == TUTORIAL else
                         f"{value:.1f} ({value / tutorial:.1f}x; raw x {value / tutorial_raw:.1f})")
        print(f"| {label} | {' | '.join(cells)} |")
    print(f"\nDecode stage, ms per clip on one core (the same {clips} clips for every row)\n")
    print("| decoding | raw files | prepared files |\n|---|---:|---:|")
    floor = "FFmpeg floor: needed frames only"
    for label in decode["raw"]:
        cells = [f"{decode[name][label]:.1f} ({decode[name][label] / decode[name][floor]:.2f}x floor)"
                 for name in ("raw", "prepared")]
        print(f"| {label} | {' | '.join(cells)} |")
    vidcls = {name: loaders[name]["vidcls"] for name in loaders}
    stage = {name: decode[name]["vidcls decode stage (pyav, RGB tensor)"] / decode[name][floor] for name in decode}
    print("\nTargets:")
    print(f"- raw files, >= 2.5x the tutorial: {vidcls['raw'] / tutorial_raw:.2f}x {_met(vidcls['raw'] >= 2.5 * tutorial_raw)}")
    print(f"- prepared files, >= 10x the tutorial on raw files: {vidcls['prepared'] / tutorial_raw:.2f}x"
          f" {_met(vidcls['prepared'] >= 10 * tutorial_raw)}")
    for name, ratio in stage.items():
        print(f"- decode stage within 1.2x of the floor, {name}: {ratio:.2f}x {_met(ratio <= 1.2)}")


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


if __name__ == "__main__":
    main()
