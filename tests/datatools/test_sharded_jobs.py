"""`--shard I/N` and `--merge` for `vidcls data kinetics`, `verify` and `prepare`: sharded runs plus the merge
write the files of one unsharded run, byte for byte; shards run at once; a killed shard resumes."""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from vidcls.cli import main as vidcls_main
from vidcls.cli.data import main as data_main
from vidcls.datatools.download import DownloadConfig, download_clips
from vidcls.datatools.kinetics.plan import plan_kinetics
from vidcls.datatools.kinetics.report import Report
from vidcls.datatools.shards import Shard

N = 3
CLIPS = [  # label, youtube_id, start, end, split, from 2 s sources; "gone" is not served (unavailable)
    ("massaging person's head", "t1", 0, 1, "train"),
    ("massaging person's head", "t2", 0, 1, "train"),
    ("abseiling", "t3", 1, 2, "train"),
    ("abseiling", "t4", 0, 2, "train"),
    ("massaging person's head", "v1", 0, 1, "val"),
    ("abseiling", "v2", 1, 2, "val"),
    ("abseiling", "gone", 0, 1, "val"),
]
TEST_CLIP = ("x1", 0, 1, "test")  # unlabelled, in a CSV of its own as the official test CSV
VIDEOS = ("train/abseiling/a1.mp4", "train/abseiling/a2.mp4", "train/zumba/z1.mp4", "val/zumba/z2.mp4")
BROKEN = "val/zumba/broken.mp4"


class Killed(Exception):
    """Stands for the scheduler killing a task: raised in the main thread while downloads run."""


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (a symlink as its target), by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def shard_names(*names: str) -> set[str]:
    return {name.replace(".", f".{i}-of-{N}.", 1) for name in names for i in range(N)}


def without(files: dict[str, bytes], names: set[str]) -> dict[str, bytes]:
    assert names <= files.keys()
    return {name: data for name, data in files.items() if name not in names}


def run(*argv: str) -> tuple[int, str]:
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()):
        code = data_main(list(argv))
    return code, out.getvalue()


def one_line_error(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        vidcls_main(["data", *argv])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1, err
    return err


@pytest.fixture
def csvs(tmp_path: Path, kinetics_csv) -> list[str]:
    rows = [f'"{label}",{youtube_id},{start},{end},{split},0' for label, youtube_id, start, end, split in CLIPS]
    kinetics_csv(tmp_path / "k400.csv", rows)
    (tmp_path / "test.csv").write_text("youtube_id,time_start,time_end,split\n" + ",".join(map(str, TEST_CLIP)) + "\n")
    return [str(tmp_path / "k400.csv"), str(tmp_path / "test.csv")]


def csv_flags(csvs: list[str]) -> list[str]:
    return [flag for csv_file in csvs for flag in ("--csv", csv_file)]


@pytest.fixture
def served(server, tmp_path: Path, counter_video):
    source = counter_video(tmp_path / "source.mp4")  # 24 frames at 12 fps
    server.serve(source, *[clip[1] for clip in CLIPS if clip[1] != "gone"], TEST_CLIP[0])
    return server


def test_sharded_download_and_merge_equal_one_run(tmp_path, served, csvs, capsys, monkeypatch):
    config = DownloadConfig(url_template=served.url, jobs=2)
    one, sharded = tmp_path / "one", tmp_path / "sharded"
    unsharded_counts = download_clips(plan_kinetics(csvs, one), config)
    assert unsharded_counts == {"downloaded": 7, "unavailable": 1}
    plans = [plan_kinetics(csvs, sharded, Shard(index, N)) for index in range(N)]
    assert sorted(len(plan.clips) for plan in plans) == [1, 2, 5] and sum(len(p.clips) for p in plans) == 8

    # shard 1 is killed after its first clip; a merge now names what is missing and unfinished
    def kill_after_first(done: int, total: int) -> None:
        if done >= 1:
            raise Killed

    with monkeypatch.context() as patched, pytest.raises(Killed):
        patched.setattr(Report, "write", lambda report: None)  # killed: no clean-up, only the rows appended so far
        download_clips(plans[1], DownloadConfig(url_template=served.url, jobs=1), kill_after_first)
    finished = {clip.youtube_id for clip in plans[1].clips if plans[1].is_finished(clip)}
    assert 1 <= len(finished) < len(plans[1].clips)
    appended = plans[1].report_path.read_text().splitlines()[1:]  # no clean-up rewrote it with pending rows
    assert 1 <= len(appended) <= len(finished) and all(row.endswith(",downloaded,") for row in appended)
    err = one_line_error(capsys, "kinetics", *csv_flags(csvs), "--out", str(sharded), "--merge")
    assert f"{sharded}: cannot merge, shards missing: 0/3 2/3; unfinished (rerun them): 1/3" in err
    assert not (sharded / "download_report.csv").exists()

    # all three at once in one folder: each waits, its files open, until all three have started
    started = threading.Barrier(N, timeout=60)

    def run_shard(plan):
        waited = False

        def progress(done: int, total: int) -> None:
            nonlocal waited
            if not waited:
                waited = True
                started.wait()

        return download_clips(plan, config, progress)

    served.requests.clear()
    with ThreadPoolExecutor(N) as pool:
        counts = list(pool.map(run_shard, plans))
    assert sum(counts, Counter()) == unsharded_counts
    assert not finished & set(served.requests), "the killed shard resumed without fetching its finished clips again"

    served.requests.clear()
    code, out = run("kinetics", *csv_flags(csvs), "--out", str(sharded), "--merge")
    assert code == 0 and out == f"{sharded}: 7 downloaded, 1 unavailable (details: {sharded / 'download_report.csv'})\n"
    assert served.requests == [], "the merge downloads nothing"
    # the same classes, lists, report and clips, byte for byte (x264 encodes deterministically)
    assert without(tree(sharded), shard_names("download_report.csv", "download_report.json")) == tree(one)


def test_sharded_ingest_and_merge_equal_one_run(tmp_path, csvs, capsys):
    flat = tmp_path / "cvdf"
    flat.mkdir()
    for name in ("t1_000000_000001.mp4", "t3_000001_000002.mp4", "v2_000001_000002.mp4", "x1_000000_000001.mp4"):
        (flat / name).write_bytes(b"a clip " + name.encode())
    csv_args = csv_flags(csvs)
    one, sharded = tmp_path / "one", tmp_path / "sharded"
    assert run("kinetics", *csv_args, "--out", str(one), "--from-dir", str(flat))[0] == 0
    for index in range(N):
        assert run("kinetics", *csv_args, "--out", str(sharded), "--from-dir", str(flat), "--shard", f"{index}/{N}")[0] == 0
    assert not (sharded / "classes.txt").exists() and not (sharded / "train.csv").exists(), "shards write only their own"
    code, out = run("kinetics", *csv_args, "--out", str(sharded), "--merge")
    assert (code, out.split(" (")[0]) == (0, f"{sharded}: 4 linked, 4 missing")
    assert without(tree(sharded), shard_names("download_report.csv", "download_report.json")) == tree(one)

    # a merge refuses shards of two runs with different N, and shards that read other CSVs
    stray = sharded / "download_report.0-of-2.json"
    stray.write_text("{}")
    err = one_line_error(capsys, "kinetics", *csv_args, "--out", str(sharded), "--merge")
    assert "download_report shards of runs with different N (1 of N=2, 3 of N=3)" in err
    stray.unlink()
    assert run("kinetics", "--csv", csvs[0], "--out", str(sharded), "--from-dir", str(flat), "--shard", f"1/{N}")[0] == 0
    err = one_line_error(capsys, "kinetics", *csv_args, "--out", str(sharded), "--merge")
    assert f"{sharded}: cannot merge, shards that read other CSVs: 1/3" in err


def test_bad_shard_flags_are_one_line_errors(tmp_path, csvs, capsys):
    kinetics = ["kinetics", "--csv", csvs[0], "--out", str(tmp_path / "k"), "--dry-run"]
    assert "shard 3/2: I must be below N" in one_line_error(capsys, *kinetics, "--shard", "3/2")
    assert "shard 0/0: N must be at least 1" in one_line_error(capsys, *kinetics, "--shard", "0/0")
    assert "give it no --shard" in one_line_error(capsys, "verify", str(tmp_path), "--merge", "--shard", "0/2")
    assert not (tmp_path / "k").exists()


def test_dry_run_counts_one_shard(tmp_path, csvs, capsys):
    out = tmp_path / "k"
    assert data_main(["kinetics", "--csv", csvs[0], "--out", str(out), "--dry-run", "--json", "--shard", "1/3"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["shard"] == "1/3" and summary["total"]["clips"] == 4  # t1 t2 t4 gone (x1 is in test.csv)
    assert not out.exists()


@pytest.fixture
def dataset(tmp_path: Path, counter_video) -> Path:
    """Four small videos in class folders and one broken file, with a list file naming them all."""
    root = tmp_path / "dataset"
    for relative in VIDEOS:
        counter_video(root / relative, num_frames=12)
    (root / BROKEN).write_bytes(b"not a video")
    lines = [f"{relative},{relative.split('/')[1]}" for relative in (*VIDEOS, BROKEN)]
    (root / "train.csv").write_text("path,label\n" + "\n".join(lines) + "\n")
    assert sorted(Shard.of(r, N).index for r in (*VIDEOS, BROKEN)) == [0, 0, 0, 1, 2]  # every shard has some
    return root


def test_sharded_verify_and_merge_equal_one_run(dataset, capsys, counter_video):
    manifest = dataset / "manifest.csv"
    one_code, one_out = run("verify", str(dataset), "--json", "--jobs", "2")
    expected = manifest.read_bytes()
    manifest.unlink()
    codes = [run("verify", str(dataset), "--json", "--jobs", "2", "--shard", f"{index}/{N}")[0] for index in range(N)]
    assert codes == [int(index == Shard.of(BROKEN, N).index) for index in range(N)]  # 1: a bad file in the share
    assert not manifest.exists()
    missing = dataset / f"manifest.2-of-{N}.csv"
    kept = missing.read_bytes()
    missing.unlink()
    assert "shards with no manifest: 2/3" in one_line_error(capsys, "verify", str(dataset), "--merge")
    missing.write_bytes(kept)

    code, out = run("verify", str(dataset), "--json", "--merge")
    assert (code, json.loads(out)) == (one_code, json.loads(one_out)) and one_code == 1  # the broken file
    assert manifest.read_bytes() == expected

    counter_video(dataset / "train/zumba/late.mp4", num_frames=12)  # the listing changed after the shards ran
    err = one_line_error(capsys, "verify", str(dataset), "--merge")
    assert f"that probed other videos than {dataset}: {Shard.of('train/zumba/late.mp4', N)}" in err


def test_sharded_prepare_and_merge_equal_one_run(dataset, tmp_path, capsys):
    listed = dataset / "train.csv"
    one, sharded = tmp_path / "one", tmp_path / "sharded"
    assert run("prepare", str(listed), str(one), "--jobs", "2")[0] == 1  # the broken file fails, the others not
    for index in range(N):
        run("prepare", str(listed), str(sharded), "--jobs", "2", "--shard", f"{index}/{N}")
    assert not (sharded / "train.csv").exists()
    code, out = run("prepare", str(listed), str(sharded), "--merge")
    assert (code, out.strip()) == (0, f"{sharded / 'train.csv'}: merged; 1 listed video(s) left out (they failed in their shard)")
    merged = without(tree(sharded), shard_names("train.csv"))
    assert merged == tree(one)  # the list and the videos, byte for byte
    assert sorted(merged) == sorted(["train.csv", *VIDEOS]) and b"broken" not in merged["train.csv"]  # failed

    assert "no list to merge" in one_line_error(capsys, "prepare", str(dataset), str(sharded), "--merge")
