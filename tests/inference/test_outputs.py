"""`vidcls predict --output`: JSON lines that a rerun completes, shards, features beside the rows, launcher shares."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vidcls.inference.outputs import index_path

# One clip per network batch: every video's numbers are then the same whatever shares a batch with it,
# so runs that split the videos otherwise can be compared for equality.
EXACT = ("--batch-size", 1, "--top-k", 2)


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_rows_are_written_in_input_order_and_errors_counted(run_predict, tiny_checkpoint, corpus_dir, tmp_path):
    output = tmp_path / "preds.jsonl"
    status, out, err = run_predict(corpus_dir, "--checkpoint", tiny_checkpoint, "--output", output, *EXACT)
    rows = read_rows(output)
    expected = [str(p) for p in sorted(corpus_dir.rglob("*.mp4"))]
    assert [row["path"] for row in rows] == expected
    (broken,) = [row for row in rows if "error" in row]
    assert broken["path"].endswith("broken.mp4") and "predictions" not in broken
    assert all(len(row["predictions"]) == 2 for row in rows if row is not broken)
    assert status == 1 and out == ""
    assert f"{output}: 9 videos predicted, 1 unreadable (rows with an error), 0 already there" in err


def test_a_rerun_after_a_kill_predicts_every_video_exactly_once(run_predict, tiny_checkpoint, corpus_dir, tmp_path):
    full = tmp_path / "full.jsonl"
    run_predict(corpus_dir, "--checkpoint", tiny_checkpoint, "--output", full, *EXACT)
    lines = full.read_text().splitlines(keepends=True)
    killed = tmp_path / "killed.jsonl"
    killed.write_text("".join(lines[:4]) + lines[4][:17])  # four rows, then the fifth cut off mid-line
    status, _, err = run_predict(corpus_dir, "--checkpoint", tiny_checkpoint, "--output", killed, *EXACT)
    assert killed.read_text() == full.read_text()  # the same rows, each once, in the same order
    assert "5 videos predicted, 1 unreadable (rows with an error), 4 already there" in err and status == 1

    status, _, err = run_predict(corpus_dir, "--checkpoint", tiny_checkpoint, "--output", killed, *EXACT)
    assert killed.read_text() == full.read_text() and "0 videos predicted" in err and status == 0


def test_two_shards_together_equal_one_run(run_predict, tiny_checkpoint, corpus_dir, tmp_path):
    run_predict(corpus_dir, "--checkpoint", tiny_checkpoint, "--output", tmp_path / "one.jsonl", *EXACT)
    for index in (0, 1):
        run_predict(corpus_dir, "--checkpoint", tiny_checkpoint, "--output", tmp_path / "preds.jsonl",
                    "--shard", f"{index}/2", *EXACT)
    parts = [read_rows(tmp_path / f"preds.{index}-of-2.jsonl") for index in (0, 1)]
    assert all(parts)  # each shard has some of the 9 videos
    one = read_rows(tmp_path / "one.jsonl")
    assert sorted(parts[0] + parts[1], key=lambda row: row["path"]) == sorted(one, key=lambda row: row["path"])


def test_features_give_one_row_per_video_read_and_survive_a_kill(run_predict, tiny_checkpoint, corpus_dir, tmp_path):
    output, features = tmp_path / "preds.jsonl", tmp_path / "feats.npy"
    run_predict(corpus_dir, "--checkpoint", tiny_checkpoint, "--output", output, "--features", features, *EXACT)
    read = [row["path"] for row in read_rows(output) if "error" not in row]
    full = np.load(features)
    assert full.shape == (8, 128) and full.dtype == np.float32  # simple3d's classifier takes 128 pooled channels
    assert index_path(features).read_text().splitlines() == read
    assert len(np.unique(full, axis=0)) == 8

    # killed between a video's features and its JSON line (here: five times): a rerun drops the features rows without one
    lines = output.read_text().splitlines(keepends=True)
    output.write_text("".join(lines[:3]))
    status, _, err = run_predict(corpus_dir, "--checkpoint", tiny_checkpoint, "--output", output,
                                 "--features", features, *EXACT)
    assert "6 videos predicted" in err
    assert index_path(features).read_text().splitlines() == read
    np.testing.assert_array_equal(np.load(features), full)


def test_features_missing_for_rows_already_written_are_refused(run_predict, tiny_checkpoint, corpus_dir, tmp_path):
    output = tmp_path / "preds.jsonl"
    run_predict(corpus_dir, "--checkpoint", tiny_checkpoint, "--output", output, *EXACT)
    status, _, err = run_predict(corpus_dir, "--checkpoint", tiny_checkpoint, "--output", output,
                                 "--features", tmp_path / "feats.npy")
    assert status == 2 and "feats.npy: 0 feature rows for 8 predictions already written" in err


def test_two_launched_processes_write_the_rows_of_one(tiny_checkpoint, corpus_dir, tmp_path, run_predict):
    """torchrun starts two CPU processes; each predicts its share (RANK of WORLD_SIZE) into its own file."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "vidcls",
               "predict", str(corpus_dir), "--checkpoint", str(tiny_checkpoint), "--output", str(tmp_path / "preds.jsonl"),
               "--workers", "0", *map(str, EXACT)]
    subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    parts = [read_rows(tmp_path / f"preds.{rank}-of-2.jsonl") for rank in (0, 1)]
    run_predict(corpus_dir, "--checkpoint", tiny_checkpoint, "--output", tmp_path / "one.jsonl", *EXACT)
    assert all(parts)
    one = read_rows(tmp_path / "one.jsonl")
    assert sorted(parts[0] + parts[1], key=lambda row: row["path"]) == sorted(one, key=lambda row: row["path"])


@pytest.mark.parametrize("flags, message", [
    (("--features", "f.npy"), "--features needs --output"),
    (("--shard", "0/2"), "--shard or a launcher needs --output"),
    (("--output", "p.jsonl", "--shard", "2/2"), "I must be below N"),
    (("--output", "p.jsonl", "--json"), "leave out --json and --html"),
])
def test_flags_that_cannot_go_together_are_refused(run_predict, tiny_checkpoint, corpus_dir, flags, message):
    status, _, err = run_predict(corpus_dir, "--checkpoint", tiny_checkpoint, *flags)
    assert status == 2 and message in err


def test_timelines_are_rows_too(run_predict, tiny_checkpoint, corpus_dir, tmp_path):
    output = tmp_path / "timelines.jsonl"
    status, _, err = run_predict(corpus_dir / "b", "--checkpoint", tiny_checkpoint, "--output", output, "--timeline",
                                 "--top-k", 1)
    rows = read_rows(output)
    assert [row["path"] for row in rows] == [str(p) for p in sorted((corpus_dir / "b").iterdir())]
    assert all(row["windows"] and row["segments"] for row in rows if "error" not in row)
    assert status == 1 and "5 videos predicted, 1 unreadable" in err
