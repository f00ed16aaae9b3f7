"""A synthetic action dataset whose classes are motions, not looks.

Each video shows one shape moving over a textured background. Shape, colours, texture, size,
position, speed and noise are random and shared by all classes, so no single frame tells the
class: only how the shape moves across frames does. Videos are real H.264 MP4 files in the
class-folder layout (``OUT/<split>/<class>/<class>_<n>.mp4``), reproducible from a seed.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from torchcodec.encoders import VideoEncoder

from vidcls.io import partial_path

# class name → motion(t in [0, 1], strength in [0.3, 0.5]) → pose change from the start:
# (dx as a fraction of the width, dy as a fraction of the height, turn in degrees, scale)
Motion = Callable[[float, float], tuple[float, float, float, float]]
MOTIONS: dict[str, Motion] = {
    "moving_left": lambda t, a: (-a * t, 0.0, 0.0, 1.0),
    "moving_right": lambda t, a: (a * t, 0.0, 0.0, 1.0),
    "moving_up": lambda t, a: (0.0, -a * t, 0.0, 1.0),
    "moving_down": lambda t, a: (0.0, a * t, 0.0, 1.0),
    "rotating_clockwise": lambda t, a: (0.0, 0.0, 360 * a * t, 1.0),
    "rotating_anticlockwise": lambda t, a: (0.0, 0.0, -360 * a * t, 1.0),
    "growing": lambda t, a: (0.0, 0.0, 0.0, 1.0 + 1.6 * a * t),
    "shrinking": lambda t, a: (0.0, 0.0, 0.0, 1.0 / (1.0 + 1.6 * a * t)),
}
CLASSES = sorted(MOTIONS)

# Outlines in unit coordinates, none with rotational symmetry, so the direction of a turn shows.
SHAPES = {
    "triangle": [(0.0, -1.0), (0.8, 0.7), (-0.6, 0.5)],
    "arrow": [(-1.0, -0.3), (0.2, -0.3), (0.2, -0.8), (1.0, 0.0), (0.2, 0.8), (0.2, 0.3), (-1.0, 0.3)],
    "ell": [(-0.8, -1.0), (-0.2, -1.0), (-0.2, 0.4), (0.8, 0.4), (0.8, 1.0), (-0.8, 1.0)],
    "kite": [(0.0, -1.0), (0.5, -0.2), (0.0, 1.0), (-0.3, -0.2)],
}


@dataclass(frozen=True)
class SynthConfig:
    """Size and difficulty of the synthetic set. Defaults: the demo's (trains to >0.9 top-1 on a CPU)."""

    width: int = 96
    height: int = 72
    fps: int = 12
    duration: float = 3.0
    noise: float = 6.0  # standard deviation of per-pixel noise, in 0-255 units
    min_contrast: float = 90.0  # least luminance difference between shape and background
    seed: int = 0


def render_video(motion: str, rng: np.random.Generator, config: SynthConfig) -> np.ndarray:
    """Frames ``T×H×W×3`` uint8 of one random shape performing ``motion``."""
    w, h = config.width, config.height
    num_frames = round(config.duration * config.fps)
    background, bg_luma = _background(rng, w, h)
    colour = _contrasting_colour(rng, bg_luma, config.min_contrast)
    outline = np.array(SHAPES[rng.choice(sorted(SHAPES))])
    size = rng.uniform(0.1, 0.16) * h  # half-width of the unit outline, in pixels
    strength = rng.uniform(0.3, 0.5)
    angle0 = rng.uniform(0, 360)
    # place the start so the shape stays inside the frame for the whole video
    dx_end, dy_end, _, scale_end = MOTIONS[motion](1.0, strength)
    margin = 1.3 * size * max(scale_end, 1.0)  # 1.3: the outlines' largest radius
    dx_end, dy_end = dx_end * w, dy_end * h
    x0 = rng.uniform(margin - min(dx_end, 0), w - margin - max(dx_end, 0))
    y0 = rng.uniform(margin - min(dy_end, 0), h - margin - max(dy_end, 0))
    frames = np.empty((num_frames, h, w, 3), dtype=np.uint8)
    for i in range(num_frames):
        dx, dy, angle, scale = MOTIONS[motion](i / max(num_frames - 1, 1), strength)
        image = Image.fromarray(background)
        pose = (x0 + dx * w, y0 + dy * h, angle0 + angle, size * scale)
        ImageDraw.Draw(image).polygon(_place(outline, *pose), fill=colour)
        noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, config.noise, (h, w, 3))
        frames[i] = np.clip(noisy, 0, 255).astype(np.uint8)
    return frames


def _place(outline: np.ndarray, x: float, y: float, angle_deg: float, size: float) -> list[tuple[float, float]]:
    a = math.radians(angle_deg)
    rotation = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    points = outline @ rotation.T * size + (x, y)
    return [tuple(p) for p in points]


def _background(rng: np.random.Generator, w: int, h: int) -> tuple[np.ndarray, float]:
    """A static texture: a colour gradient with soft stripes at a random angle and frequency."""
    base = rng.uniform(40, 215, 3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, math.pi)
    frequency = rng.uniform(0.05, 0.3)
    stripes = np.sin((xx * math.cos(angle) + yy * math.sin(angle)) * frequency)[..., None] * rng.uniform(5, 20)
    gradient = (xx / w)[..., None] * rng.uniform(-25, 25, 3)
    image = np.clip(base + stripes + gradient, 0, 255).astype(np.uint8)
    return image, float(_luma(base))


def _contrasting_colour(rng: np.random.Generator, bg_luma: float, min_contrast: float) -> tuple[int, int, int]:
    while True:
        colour = rng.uniform(0, 255, 3)
        if abs(_luma(colour) - bg_luma) >= min_contrast:
            return tuple(int(c) for c in colour)


def _luma(rgb: np.ndarray) -> float:
    return float(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])


# x264's SIMD macroblock-tree propagation (mbtree_propagate_cost/list) made the same frames encode to different
# streams from run to run here (AVX-512 CPU: each of 8 demo videos, encoded 8 times, gave 2-4 different streams,
# also with one thread; one pair decoded up to 12 levels apart; mbtree=0 or asm=0 also made them repeat).
# ``cpu-independent`` swaps in x264's C versions of those two functions (common/mc.c, x264_mc_init), after which
# 8 of 8 encodes were identical. One thread: x264's output also depends on its thread count (set from the cores
# by default: 8 of 8 videos differed between 1 and 2 threads), and the dataset is written by several processes.
X264_REPEATABLE = {"x264-params": "cpu-independent=1", "threads": "1"}


def write_video(frames: np.ndarray, path: Path, fps: int) -> None:
    """Encode ``T×H×W×3`` uint8 frames as H.264 MP4 (yuv420p: plays everywhere).

    Written under a temporary name and renamed, so an interrupted run never leaves a partial
    file that a rerun would take as finished. The same frames give the same file
    (:data:`X264_REPEATABLE`), so a seed gives the same dataset.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(path)
    tensor = torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()
    # veryfast: 2.6x faster than x264's default preset here (9 vs 24 ms a demo video) and no larger at crf 18
    VideoEncoder(tensor, frame_rate=fps).to_file(str(partial), codec="libx264", pixel_format="yuv420p", crf=18,
                                                 preset="veryfast", extra_options=X264_REPEATABLE)
    os.replace(partial, path)


def _make_one(job: tuple[Path, str, int, int, int, SynthConfig]) -> Path:
    path, motion, split_index, class_index, n, config = job
    rng = np.random.default_rng([config.seed, split_index, class_index, n])
    write_video(render_video(motion, rng, config), path, config.fps)
    return path


def synthesize_dataset(
    out: str | Path,
    videos_per_class: Mapping[str, int] | None = None,
    config: SynthConfig = SynthConfig(),
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
    classes: Sequence[str] = CLASSES,
) -> list[Path]:
    """Write the dataset under ``out`` (existing files are kept: a rerun only fills gaps).

    ``workers`` encoding processes; 1 encodes in this process (no process start-up: small sets
    are done sooner). The files are the same either way. ``classes`` picks a subset of the
    motions (tests use a few for speed).
    """
    videos_per_class = videos_per_class or {"train": 40, "val": 10, "test": 25}
    out = Path(out)
    jobs = []
    for split_index, (split, count) in enumerate(videos_per_class.items()):
        for class_index, motion in enumerate(classes):
            for n in range(count):
                path = out / split / motion / f"{motion}_{n:04d}.mp4"
                if not path.exists():
                    jobs.append((path, motion, split_index, class_index, n, config))
    total = sum(videos_per_class.values()) * len(classes)
    done = total - len(jobs)
    if progress:
        progress(done, total)
    with ExitStack() as stack:
        made = map(_make_one, jobs)
        if jobs and workers > 1:
            # spawn, not fork: a forked child can inherit a lock held by one of torch's or FFmpeg's threads
            pool = stack.enter_context(ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")))
            made = pool.map(_make_one, jobs, chunksize=8)
        for _ in made:
            done += 1
            if progress:
                progress(done, total)
    return [job[0] for job in jobs]
