"""`vidcls data verify`: bad files found with reasons, manifest, exit codes, JSON, read_manifest, timeouts."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import threading
from pathlib import Path

import pytest

from tests.helpers.videos import make_video
from vidcls.cli.data import main as data_main
from vidcls.data.formats.lists import is_manifest, read_list_file
from vidcls.data.sources import LabelledVideo
from vidcls.datatools import verify
from vidcls.errors import DatasetError

BAD = ("train/bad/empty.mp4", "train/bad/random.mp4", "train/bad/text.mp4", "val/good/truncated.mp4")
GOOD = ("train/good/a.mp4", "train/good/b.mp4", "train/bad/fine.mp4", "val/good/c.mp4")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, counter_video) -> Path:
    """Class folders holding good videos and every kind of bad one."""
    root = tmp_path_factory.mktemp("dataset")
    for relative in GOOD:
        counter_video(root / relative)  # 24 frames at 12 fps, 48x32
    (root / "train/bad/empty.mp4").touch()
    (root / "train/bad/random.mp4").write_bytes(os.urandom(4096))
    (root / "train/bad/text.mp4").write_text("this is not a video\n")
    whole = root / "whole.mp4.tmp"  # index at the front, so the truncated half still opens
    make_video(whole, frames=100, fps=25, size=(160, 120), pattern="testsrc", faststart=True, options=("-f", "mp4"))
    data = whole.read_bytes()
    (root / "val/good/truncated.mp4").write_bytes(data[: len(data) // 2])
    whole.unlink()
    return root


def _run(args: list[str]) -> tuple[int, str]:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = data_main(["verify", *args])
    return code, out.getvalue()


@pytest.fixture(scope="module")
def text_run(root: Path) -> tuple[int, list[str]]:
    code, out = _run([str(root), "--jobs", "2"])
    return code, [line for line in out.splitlines() if not line.startswith("Verifying")]  # not the bar


def test_prints_each_bad_file_with_its_reason_and_fails(root, text_run):
    code, lines = text_run
    assert code == 1
    reported = {line.split(": ", 1)[0] for line in lines[:-1]}
    assert reported == {str(root / relative) for relative in BAD}
    assert all(line.split(": ", 1)[1] for line in lines[:-1])  # a reason on the same line
    assert "decoding failed" in next(line for line in lines if "truncated" in line)  # opens, last frame missing
    assert lines[-1] == f"8 videos: 4 ok, 4 bad (manifest: {root / 'manifest.csv'})"


def test_manifest_columns_and_values(root, text_run):
    with (root / "manifest.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = {row["path"]: row for row in reader}
    assert reader.fieldnames == ["path", "label", "frames", "fps", "duration", "width", "height", "ok", "error"]
    assert set(rows) == {*GOOD, *BAD}  # relative to the manifest's folder
    good = rows["train/good/a.mp4"]
    assert good == {"path": "train/good/a.mp4", "label": "good", "frames": "24", "fps": "12", "duration": "2",
                    "width": "48", "height": "32", "ok": "true", "error": ""}
    truncated = rows["val/good/truncated.mp4"]
    assert (truncated["ok"], truncated["frames"], truncated["width"]) == ("false", "100", "160")
    empty = rows["train/bad/empty.mp4"]
    assert (empty["ok"], empty["frames"], empty["label"]) == ("false", "", "bad") and empty["error"]


def test_allow_bad_and_json(root, tmp_path):
    manifest = tmp_path / "elsewhere.csv"
    code, out = _run([str(root), "--json", "--allow-bad", "--manifest", str(manifest), "--jobs", "2"])
    assert code == 0
    report = json.loads(out)  # nothing but the JSON on stdout
    assert {k: report[k] for k in ("total", "ok", "bad", "manifest")} == {
        "total": 8, "ok": 4, "bad": 4, "manifest": str(manifest)
    }
    assert {item["path"] for item in report["bad_files"]} == {str(root / relative) for relative in BAD}
    assert all(item["error"] and not item["error"].startswith(item["path"]) for item in report["bad_files"])  # the reason
    with manifest.open(newline="") as handle:  # outside the dataset: absolute paths
        assert {row["path"] for row in csv.DictReader(handle)} == {str(root / r) for r in (*GOOD, *BAD)}


def test_manifest_list_skips_bad_rows_and_says_how_many(root, text_run, caplog):
    manifest = root / "manifest.csv"
    assert is_manifest(manifest)
    with caplog.at_level(logging.WARNING):
        videos = read_list_file(manifest)
    assert sorted((v.path, v.label) for v in videos) == sorted((root / r, Path(r).parts[1]) for r in GOOD)
    assert f"{manifest}: skipped 4 bad video(s)" in caplog.text


def test_manifest_errors_name_the_file(tmp_path):
    lists = tmp_path / "list.csv"
    lists.write_text("path,label\na.mp4,x\n")
    assert not is_manifest(lists)
    only_bad = tmp_path / "manifest.csv"
    only_bad.write_text("path,label,ok,error\na.mp4,x,false,empty file\n")
    with pytest.raises(DatasetError, match="manifest.csv: list file names no videos"):
        read_list_file(only_bad)


def test_a_hanging_file_times_out(root, monkeypatch):
    release = threading.Event()
    real_probe = verify.probe_video

    def probe(path: Path, label: str = "", options: verify.ProbeOptions = verify.ProbeOptions()) -> verify.Probe:
        if path.name == "b.mp4":
            release.wait()  # stands for FFmpeg stuck on a pathological file
        return real_probe(path, label, options)

    monkeypatch.setattr(verify, "probe_video", probe)
    videos = [LabelledVideo(root / relative, "good", "test") for relative in GOOD]
    try:
        probes = verify.probe_videos(videos, jobs=2, timeout=1.0)
    finally:
        release.set()
    assert [p.path for p in probes] == [v.path for v in videos]
    assert [p.error for p in probes] == ["", "timed out after 1 s", "", ""]


def test_finds_split_folders_and_loose_clips(tmp_path):
    for relative in ("train/x/a.mp4", "val/y/b.mp4", "test/c.mp4"):  # Kinetics: unlabelled test clips
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).touch()
    labelled = [(v.path.relative_to(tmp_path).as_posix(), v.label) for v in verify.find_videos(tmp_path)]
    assert labelled == [("train/x/a.mp4", "x"), ("val/y/b.mp4", "y"), ("test/c.mp4", "")]
    assert [v.label for v in verify.find_videos(tmp_path / "train")] == ["x"]  # one split folder
    with pytest.raises(DatasetError, match="no such folder or list file"):
        verify.find_videos(tmp_path / "nowhere")


def test_real_clips_verify_ok(media_dir, tmp_path):
    listed = tmp_path / "media.txt"
    listed.write_text("".join(f"{path} real\n" for path in sorted(media_dir.iterdir())))
    code, out = _run([str(listed), "--json", "--jobs", "2"])
    report = json.loads(out)
    assert (code, report["bad"], report["total"]) == (0, 0, 3), report["bad_files"]
    assert report["manifest"] == str(tmp_path / "media_manifest.csv")


def test_a_multi_label_list_keeps_its_label_sets_through_the_manifest(root, tmp_path):
    tags = {"train/good/a.mp4": "dog;ball", "train/good/b.mp4": ";", "val/good/c.mp4": "cat"}
    listed = tmp_path / "tags.txt"
    listed.write_text("".join(f"{root / path} {labels}\n" for path, labels in tags.items()))
    code, _ = _run([str(listed), "--manifest", str(tmp_path / "manifest.csv")])
    assert code == 0
    assert [v.label for v in read_list_file(tmp_path / "manifest.csv")] == [v.label for v in read_list_file(listed)] == [
        ("dog", "ball"), (), "cat"]
