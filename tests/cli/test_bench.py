"""`vidcls bench data`: the loader fit would build, timed, as text or JSON."""

import json
import re

import pytest

from vidcls.cli import main

SMALL = ["--model.model", "simple3d", "--data.batch_size", "4", "--data.num_frames", "4", "--data.crop_size", "32",
         "--data.min_scale", "32", "--data.max_scale", "36", "--data.eval_resize", "32"]


def bench(capsys, *args):
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "data", *args])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_json_reports_clips_per_second_and_memory(synth_root, capsys):
    result = json.loads(bench(capsys, "--data", str(synth_root), "--clips", "8", "--json", *SMALL))
    assert result["clips_per_s"] > 0 and result["clips"] >= 8 and result["seconds"] > 0
    assert result["batch_shape"] == [4, 3, 4, 32, 32] and result["split"] == "train"
    assert result["worker_rss_mb"] is None and 0 < result["main_rss_mb"]["start"] <= result["main_rss_mb"]["peak"]
    assert result["settings"]["num_workers"] == 0 and result["settings"]["decoder"] == "pyav"
    assert result["settings"]["clip"] == {**result["settings"]["clip"], "num_frames": 4, "crop_size": 32, "min_scale": 32,
                                          "max_scale": 36, "eval_resize": 32}


def test_workers_memory_is_measured(synth_root, capsys):
    result = json.loads(bench(capsys, "--data", str(synth_root), "--clips", "4", "--workers", "1", "--json", *SMALL))
    memory = result["worker_rss_mb"]
    assert 0 < memory["start"] <= memory["peak"] and memory["end"] > 0


def test_model_preset_applies_as_in_fit(synth_root, capsys):
    result = json.loads(bench(capsys, "--data", str(synth_root), "--clips", "2", "--json", "--model.model", "x3d_xs",
                              "--data.batch_size", "2"))
    clip = result["settings"]["clip"]
    assert (clip["num_frames"], clip["crop_size"], clip["min_scale"], clip["max_scale"]) == (4, 160, 182, 228)  # x3d_xs's
    assert result["batch_shape"] == [2, 3, 4, 160, 160]


def test_text_output_and_val_split(synth_root, capsys):
    out = bench(capsys, "--data", str(synth_root), "--split", "val", "--clips", "4", *SMALL)
    first, *memory = out.splitlines()
    match = re.fullmatch(r"val loader: (\d+) clips in ([\d.]+) s = ([\d.]+) clips/s \(batch (\S+), 0 workers\)", first)
    assert match, first
    clips, seconds, rate = int(match[1]), float(match[2]), float(match[3])
    assert clips >= 4 and clips / (seconds + 0.005) <= rate + 0.005 <= clips / max(seconds - 0.005, 1e-3) + 0.01  # s to 2 places
    assert match[4] == "4×3×4×32×32"  # the eval centre crop of SMALL's clip
    assert len(memory) == 1 and memory[0].startswith("main process RSS: ")  # no workers: no worker line
