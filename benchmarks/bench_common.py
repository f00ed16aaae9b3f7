"""What the benchmark scripts share: the machine line, quiet library logs, and the training table.

Nothing here imports torch, so ``gpu_check.py report`` can write its tables in a second even when
the parts before it broke the environment.
"""

from __future__ import annotations

import logging
import os
import platform
import warnings
from pathlib import Path


def machine() -> str:
    """Cores, CPU model, memory and OS: the line every result starts with."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    return f"{os.cpu_count()} cores, {cpu}, {memory_kb / 1024**2:.0f} GiB RAM, {platform.platform()}"


def quiet_library_logs() -> None:
    """Keep reports readable: Lightning's per-run notices and pytorchvideo's deprecation warnings say nothing here."""
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="lightning|torch.utils.data")
    warnings.filterwarnings("ignore", category=FutureWarning)  # pytorchvideo's use of torch.jit


def training_table(rows: list[dict]) -> str:
    """Markdown, one row per ``train_throughput.measure`` row; "vs baseline" is the model-only speed-up.

    The data column says how end-to-end read its clips; peak GPU memory appears when rows have it.
    """
    baseline = {row["model"]: row["model_only"] for row in rows if row["switches"] == "baseline"}
    memory = any(row.get("model_only_peak_gib") is not None for row in rows)
    lines = ["| model | clip | batch | switches | model-only clips/s | vs baseline | end-to-end clips/s"
             " | end-to-end / model-only | data |" + (" peak GPU GiB, model-only / end-to-end |" if memory else ""),
             "|---|---|---:|---|---:|---:|---:|---:|---|" + ("---:|" if memory else "")]
    for row in rows:
        speedup = f"{row['model_only'] / baseline[row['model']]:.2f}x" if row["model"] in baseline else ""
        line = (f"| {row['model']} | {row['clip']} | {row['batch']} | {row['switches']} | {row['model_only']:.2f}"
                f" | {speedup} | {row['end_to_end']:.2f} | {row['ratio']:.0%} | {workers_text(row['workers'])},"
                f" {row['decode_device']} decoding |")
        if memory:
            line += f" {_gib(row['model_only_peak_gib'])} / {_gib(row['end_to_end_peak_gib'])} |"
        lines.append(line)
    return "\n".join(lines)


def workers_text(count: int) -> str:
    return f"{count} worker{'' if count == 1 else 's'}"


def _gib(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"
