"""What ``report.html`` costs on Kinetics-400's validation set: the page's size and the time it adds to a test run.

Metrics input: 400 classes × 19,906 videos of random probabilities (a softmax of random logits,
the true class raised so that top-1 is about 70 %, like a real model's). The 12 wrong videos get
real frames: the Kinetics clip of ``../shared/media`` read through the test dataset as
``vidcls test`` rereads them after a run (slow_r50's clip: 8 frames over 2.13 s, crop 224; the
standard 10 clips × 3 crops, of which the page shows the middle view).

Timed, each the best of ``--repeat`` runs: every report file as a test run writes them
(``write_report``: JSON, CSV, the confusion PNG, the page), the page alone
(``most_confidently_wrong`` + ``write_report_page``: what the page adds, as the PNG is rendered once
for both), and rereading the 12 clips (decoding and transforming all 30 views of each, as the
dataset does: also added by the page).

    .venv/bin/python benchmarks/report_page.py
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import tempfile
import time
from pathlib import Path

import torch

from vidcls.data.dataset import VideoClipDataset
from vidcls.data.decoding import DecoderSettings
from vidcls.data.sources import VideoSample
from vidcls.data.transforms import multi_view_transform, unnormalise
from vidcls.evaluation.html import figure_png
from vidcls.evaluation.metrics import most_confidently_wrong, video_metrics
from vidcls.evaluation.plots import confusion_figure
from vidcls.evaluation.report import write_report
from vidcls.evaluation.report_page import WRONG_EXAMPLES, WrongVideo, write_report_page
from vidcls.models import get_preset

KINETICS_CLIP = Path(__file__).resolve().parents[2] / "shared" / "media" / "kinetics_arm_wrestling.mp4"


def best_of(repeat: int, run) -> tuple[float, object]:
    """The shortest wall time of ``repeat`` runs of ``run()`` and its last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=400)
    parser.add_argument("--videos", type=int, default=19_906)
    parser.add_argument("--video", type=Path, default=KINETICS_CLIP, help="the clip the wrong examples are read from")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="keep the report files here (default: a temporary folder)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, args.classes, (args.videos,), generator=generator)
    logits = torch.randn(args.videos, args.classes, generator=generator) * 2
    logits[torch.arange(args.videos), labels] += 7.0
    probs = logits.softmax(1)
    classes = [f"kinetics class {i:03d}" for i in range(args.classes)]
    metrics = video_metrics(probs, labels, classes)
    clip = get_preset("slow_r50").with_given({"test_clips": 10, "test_crops": 3})
    extra = {"checkpoint": "slow_r50.ckpt", "model": "slow_r50", "clip": clip.to_dict(), "views": 30}

    dataset = VideoClipDataset([VideoSample(args.video, 0)], transform=multi_view_transform(clip), num_clips=clip.test_clips,
                               clip_duration=clip.clip_duration, num_frames=clip.num_frames,
                               decoding=DecoderSettings(decode_timeout=None))
    middle = clip.test_clips // 2 * clip.test_crops + clip.test_crops // 2
    reread_seconds, frames = best_of(args.repeat, lambda: [unnormalise(dataset.read_clip(0)["video"][middle], clip)
                                                           for _ in range(WRONG_EXAMPLES)])

    def wrong_videos() -> list[WrongVideo]:
        rows = most_confidently_wrong(probs, labels, WRONG_EXAMPLES)
        return [WrongVideo(f"val/{classes[int(labels[r])]}/{r:05d}.mp4", classes[int(labels[r])],
                           [(classes[i], float(p)) for p, i in zip(*probs[r].topk(5))], frames[n])
                for n, r in enumerate(rows)]

    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        page = out / "page_only.html"
        confusion = figure_png(confusion_figure(metrics["confusion"], classes), dpi=120)
        errors = metrics["videos"] - sum(row["correct"] for row in metrics["per_class"])
        summary = {**{k: v for k, v in metrics.items() if k not in ("confusion", "per_class")}, **extra}
        page_seconds, _ = best_of(args.repeat, lambda: write_report_page(
            page, summary, metrics["per_class"], confusion, wrong_videos(), errors))
        page_bytes, text = page.stat().st_size, page.read_text()
        page.unlink()
        images = sum(len(uri) for uri in re.findall(r'src="(data:[^"]+)"', text))
        report_seconds, _ = best_of(args.repeat, lambda: write_report(out, metrics, classes, extra, wrong_videos()))

    figures = {
        "classes": args.classes, "videos": args.videos, "top1": round(metrics["top1"], 4), "wrong_examples": WRONG_EXAMPLES,
        "page_bytes": page_bytes, "embedded_image_bytes": images, "confusion_png_bytes": len(confusion),
        "page_seconds": round(page_seconds, 3),
        "reread_clips_seconds": round(reread_seconds, 3), "report_files_seconds": round(report_seconds, 3),
        "machine": f"{platform.processor() or platform.machine()}, torch threads 1",
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
