"""Kinetics CSVs, safe folders, downloads from a local HTTP server (never the internet), CVDF ingest."""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from torchcodec.decoders import VideoDecoder

from vidcls.cli.data import main as data_main
from vidcls.data.decoding import VideoReader
from vidcls.data.formats.lists import read_list_file
from vidcls.data.sources import read_classes_file, resolve_labels
from vidcls.datatools.download import DownloadConfig, download_clips
from vidcls.datatools.kinetics.clips import read_kinetics_csv
from vidcls.datatools.kinetics.folders import label_folder
from vidcls.datatools.kinetics.lists import write_classes
from vidcls.datatools.kinetics.plan import plan_kinetics
from vidcls.errors import DatasetError, VidclsError


def config(server, **kwargs) -> DownloadConfig:
    return DownloadConfig(url_template=server.url, jobs=2, backoff_base=0.05, backoff_cap=0.2, **kwargs)


def report_rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "download_report.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len({row["youtube_id"] for row in rows}), "one row per clip"
    return {row["youtube_id"]: row for row in rows}


def assert_cut_at(clip: Path, source: Path, start: float, end: float, fps: float) -> None:
    """The clip lasts ``end - start`` and opens on the ``fps`` source's frame at ``start``, within 2 frames."""
    info = VideoReader(clip).info
    assert abs(info.duration - (end - start)) <= 2 / fps
    first = VideoDecoder(str(clip))[0].float()
    first_index = round(start * fps)
    nearby = VideoDecoder(str(source)).get_frames_in_range(first_index - 5, first_index + 6).data.float()
    best = int((nearby - first).abs().mean(dim=(1, 2, 3)).argmin()) + first_index - 5
    assert abs(best - first_index) <= 2


def test_reads_official_csv_formats(tmp_path, kinetics_csv):
    labelled = kinetics_csv(tmp_path / "val.csv", ['"massaging person\'s head",--nQbRBEz2s,104,114,val,0'])
    unlabelled = kinetics_csv(tmp_path / "test.csv", ["--6bJUbfpnQ,17,27,test"], "youtube_id,time_start,time_end,split")
    (clip,) = read_kinetics_csv(labelled)
    assert (clip.label, clip.youtube_id, clip.split) == ("massaging person's head", "--nQbRBEz2s", "val")
    assert clip.filename == "--nQbRBEz2s_000104_000114.mp4"
    (clip,) = read_kinetics_csv(unlabelled)
    assert clip.label is None and clip.filename == "--6bJUbfpnQ_000017_000027.mp4"


@pytest.mark.parametrize(
    "header, lines, message",
    [
        ("label,id,start,end", ["a,b,1,2"], "bad.csv:1: not a Kinetics CSV"),
        (None, ["a,../../etc,1,2,val,0"], "bad.csv:2: bad youtube_id"),
        (None, ["a,abc,1,2,val,0", "a,abc,7,3,val,0"], "bad.csv:3: need 0 <= time_start < time_end"),
        (None, ["a,abc,one,2,val,0"], "bad.csv:2: time_start and time_end must be numbers"),
        (None, ["a,abc,1,2,validation,0"], "bad.csv:2: split must be one of"),
        (None, [",abc,1,2,val,0"], "bad.csv:2: label must be one non-empty line"),
        (None, [], "bad.csv: CSV lists no clips"),
    ],
)
def test_bad_csv_names_file_and_line(tmp_path, kinetics_csv, header, lines, message):
    path = kinetics_csv(tmp_path / "bad.csv", lines, header)
    with pytest.raises(DatasetError, match=message):
        read_kinetics_csv(path)


def test_labels_become_safe_folders_and_exact_classes(tmp_path, kinetics_csv):
    labels = [
        "massaging person's head",
        "dancing gangnam style",
        "hurling (sport)",
        "..",
        "../../etc",
        "a/b",
        "a b",
        "a_b",
    ]
    rows = [f'"{label}",id{i},1,2,train,0' for i, label in enumerate(labels)]
    out = tmp_path / "out"
    plan = plan_kinetics([kinetics_csv(tmp_path / "train.csv", rows)], out)
    assert label_folder("massaging person's head") == "massaging_persons_head"
    assert label_folder("dancing gangnam style") == "dancing_gangnam_style"
    assert len(set(plan.folders.values())) == len(labels)
    for clip in plan.clips:
        assert plan.path(clip).resolve().parent.parent == (out / "train").resolve()
    write_classes(plan)
    assert read_classes_file(out / "classes.txt") == sorted(labels)
    with (out / "classes.csv").open(newline="", encoding="utf-8") as handle:
        assert {row["label"]: row["folder"] for row in csv.DictReader(handle)} == plan.folders
    # a later run with one more label keeps every folder it had
    kinetics_csv(tmp_path / "val.csv", ['"a-b",x,1,2,val,0', '"a b",y,1,2,val,0'])
    again = plan_kinetics([tmp_path / "val.csv"], out)
    assert {label: again.folders[label] for label in labels} == plan.folders
    assert again.folders["a-b"] not in plan.folders.values()


def test_download_cuts_segments_reports_failures_and_writes_lists(tmp_path, server, sources, capsys, kinetics_csv, source_fps):
    server.serve(sources["faststart"], "okA", "okT")
    server.serve(sources["index_at_end"], "tailB")
    server.script["boom"] = [500] * 10
    val = kinetics_csv(
        tmp_path / "val.csv",
        [
            '"massaging person\'s head",okA,3,7,val,0',
            '"dancing gangnam style",tailB,5,9,val,0',
            '"dancing gangnam style",gone,3,7,val,0',
            "abseiling,boom,3,7,val,1",
        ],
    )
    test = kinetics_csv(tmp_path / "test.csv", ["okT,2,6,test"], "youtube_id,time_start,time_end,split")
    out = tmp_path / "k"
    argv = ["kinetics", "--csv", str(val), "--csv", str(test), "--out", str(out), "--url-template", server.url]
    assert data_main(argv) == 0
    assert "3 downloaded, 1 failed, 1 unavailable" in capsys.readouterr().out

    rows = report_rows(out)
    assert {k: r["status"] for k, r in rows.items()} == {
        "okA": "downloaded",
        "tailB": "downloaded",
        "okT": "downloaded",
        "gone": "unavailable",
        "boom": "failed",
    }
    assert "404" in rows["gone"]["error"] and "500" in rows["boom"]["error"]
    assert all("\n" not in row["error"] for row in rows.values())
    assert_cut_at(out / "val/massaging_persons_head/okA_000003_000007.mp4", sources["faststart"], 3, 7, source_fps)
    assert_cut_at(out / "val/dancing_gangnam_style/tailB_000005_000009.mp4", sources["index_at_end"], 5, 9, source_fps)
    assert_cut_at(out / "test/okT_000002_000006.mp4", sources["faststart"], 2, 6, source_fps)
    assert not [p for p in out.rglob("*") if "partial" in p.name]

    # what training reads: exact labels, only finished clips; the unlabelled test split has no list
    videos = read_list_file(out / "val.csv")
    assert sorted(v.label for v in videos) == ["dancing gangnam style", "massaging person's head"]
    classes = read_classes_file(out / "classes.txt")
    assert classes == ["abseiling", "dancing gangnam style", "massaging person's head"]
    assert sorted(s.label for s in resolve_labels(videos, classes)) == [1, 2]
    assert not (out / "test.csv").exists()


def test_rerun_skips_finished_and_failed_until_retry_failed(tmp_path, server, sources, kinetics_csv):
    server.serve(sources["faststart"], "ok")
    plan = plan_kinetics([kinetics_csv(tmp_path / "val.csv", ["a,ok,3,5,val,0", "a,late,3,5,val,0"])], tmp_path / "k")
    assert download_clips(plan, config(server)) == {"downloaded": 1, "unavailable": 1}
    server.requests.clear()
    assert download_clips(plan, config(server)) == {"downloaded": 1, "unavailable": 1}
    assert server.requests == []
    server.serve(sources["faststart"], "late")  # the video came back
    assert download_clips(plan, config(server, retry_failed=True)) == {"downloaded": 2}
    assert set(server.requests) == {"late"}
    assert len(read_list_file(tmp_path / "k" / "val.csv")) == 2


class Interrupted(Exception):
    """Stands for Ctrl-C: raised in the main thread while downloads run."""


def test_interrupted_run_resumes_without_refetching(tmp_path, server, sources, kinetics_csv, source_fps):
    ids = ["c1", "c2", "c3", "c4"]
    server.serve(sources["faststart"], *ids)
    plan = plan_kinetics([kinetics_csv(tmp_path / "val.csv", [f"a,{i},3,5,val,0" for i in ids])], tmp_path / "k")

    def stop_after_first(done: int, total: int) -> None:
        if done >= 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        download_clips(plan, DownloadConfig(url_template=server.url, jobs=1), stop_after_first)
    # the clip under way when the interruption came is finished, the queued ones are not started
    finished = [clip for clip in plan.clips if plan.is_finished(clip)]
    assert 1 <= len(finished) <= 2
    rows = report_rows(tmp_path / "k")
    assert [rows[clip.youtube_id]["status"] for clip in finished] == ["downloaded"] * len(finished)
    # what a kill -9 leaves: a partial download folder, and an empty file under a final name
    unfinished = [clip for clip in plan.clips if clip not in finished]
    stale = plan.path(unfinished[0]).with_name(f".{plan.path(unfinished[0]).stem}.partial")
    stale.mkdir()
    (stale / "section.mp4").write_bytes(b"half a video")
    plan.path(unfinished[1]).write_bytes(b"")

    server.requests.clear()
    assert download_clips(plan, config(server)) == {"downloaded": 4}
    assert not {clip.youtube_id for clip in finished} & set(server.requests)
    assert not stale.exists()
    for clip in plan.clips:
        assert_cut_at(plan.path(clip), sources["faststart"], 3, 5, source_fps)


def test_rate_limit_backs_off_then_gives_up(tmp_path, server, sources, kinetics_csv):
    server.serve(sources["faststart"], "slow", "never")
    server.script |= {"slow": [429, 429], "never": [429] * 10}
    plan = plan_kinetics([kinetics_csv(tmp_path / "val.csv", ["a,slow,3,5,val,0", "a,never,3,5,val,0"])], tmp_path / "k")
    started = time.monotonic()
    counts = download_clips(plan, config(server, rate_limit_tries=3))
    assert counts == {"downloaded": 1, "failed": 1}
    assert time.monotonic() - started >= 0.05 + 0.1  # two pauses: base, then doubled
    assert server.requests.count("never") == 3
    assert report_rows(tmp_path / "k")["never"]["error"].startswith("rate limited 3 times: ")


def test_url_template_needs_youtube_id(tmp_path, kinetics_csv):
    plan = plan_kinetics([kinetics_csv(tmp_path / "val.csv", ["a,x,1,2,val,0"])], tmp_path / "k")
    with pytest.raises(VidclsError, match="must contain"):
        download_clips(plan, DownloadConfig(url_template="http://127.0.0.1:9/video.mp4"))


def test_ingest_links_cvdf_copy_and_reports_missing(tmp_path, sources, capsys, kinetics_csv):
    flat = tmp_path / "cvdf"
    (flat / "val").mkdir(parents=True)
    for name in ("a1_000003_000013.mp4", "b1_000000_000010.mp4"):
        shutil.copy(sources["faststart"], flat / "val" / name)
    rows = ['"tying knot (not on a tie)",a1,3,13,val,0', "zumba,b1,0,10,val,0", "zumba,c1,5,15,val,0"]
    csv_file = kinetics_csv(tmp_path / "val.csv", rows)
    out = tmp_path / "k"
    assert data_main(["kinetics", "--csv", str(csv_file), "--out", str(out), "--from-dir", str(flat)]) == 0
    assert "2 linked, 1 missing" in capsys.readouterr().out
    link = out / "val/tying_knot_not_on_a_tie/a1_000003_000013.mp4"
    assert link.is_symlink() and Path(os.readlink(link)) == (flat / "val" / link.name).resolve()
    assert report_rows(out)["c1"]["status"] == "missing"
    assert sorted(v.label for v in read_list_file(out / "val.csv")) == ["tying knot (not on a tie)", "zumba"]


def test_dry_run_counts_real_kinetics_400_csvs(tmp_path, capsys, shared_dir):
    kinetics = shared_dir / "kinetics"
    if not kinetics.is_dir():
        pytest.skip("../shared/kinetics is not available")
    val, test = kinetics / "kinetics-400_val.csv", kinetics / "kinetics-400_test.csv"
    with val.open(newline="", encoding="utf-8") as handle:
        val_rows = list(csv.reader(handle))[1:]
    with test.open(newline="", encoding="utf-8") as handle:
        test_rows = list(csv.reader(handle))[1:]
    out = tmp_path / "k400"
    assert data_main(["kinetics", "--csv", str(val), "--csv", str(test), "--out", str(out), "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["splits"]["val"] == {"clips": len(val_rows), "classes": len({r[0] for r in val_rows}), "finished": 0}
    assert plan["splits"]["test"] == {"clips": len(test_rows), "classes": 0, "finished": 0}
    assert (len(val_rows), len({r[0] for r in val_rows}), len(test_rows)) == (19906, 400, 38685)
    assert not out.exists(), "a dry run writes nothing"
    folders = plan_kinetics([val], out).folders
    assert len(set(folders.values())) == 400 and folders["massaging person's head"] == "massaging_persons_head"


@pytest.mark.parametrize("version", ["kinetics-600", "kinetics-700-2020"])
def test_later_versions_csvs_plan_and_ingest(tmp_path, sources, capsys, kinetics_csv, version):
    """Kinetics-600's and 700-2020's CSVs have no is_cc column, and their test CSV no label."""
    header, test_header = "label,youtube_id,time_start,time_end,split", "youtube_id,time_start,time_end,split"
    train = kinetics_csv(tmp_path / "train.csv", ['"tying knot (not on a tie)",a1,3,13,train', "zumba,b1,0,10,train"], header)
    test = kinetics_csv(tmp_path / "test.csv", ["c1,5,15,test"], test_header)
    validate = kinetics_csv(tmp_path / "validate.csv", ["zumba,d1,0,10,validate"], header)  # Kinetics-700's split name
    out = tmp_path / version
    assert data_main(["kinetics", "--csv", str(train), "--csv", str(test), "--csv", str(validate), "--out", str(out),
                      "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["splits"]["train"]["clips"] == 2 and plan["splits"]["test"] == {"clips": 1, "classes": 0, "finished": 0}
    assert plan["splits"]["val"] == {"clips": 1, "classes": 1, "finished": 0}
    flat = tmp_path / "cvdf"
    for split, name in (("train", "a1_000003_000013.mp4"), ("train", "b1_000000_000010.mp4"), ("test", "c1_000005_000015.mp4")):
        (flat / split).mkdir(parents=True, exist_ok=True)
        shutil.copy(sources["faststart"], flat / split / name)
    assert data_main(["kinetics", "--csv", str(train), "--csv", str(test), "--out", str(out), "--from-dir", str(flat)]) == 0
    assert ": 3 linked (details" in capsys.readouterr().out
    assert sorted(v.label for v in read_list_file(out / "train.csv")) == ["tying knot (not on a tie)", "zumba"]
    assert (out / "test" / "c1_000005_000015.mp4").is_symlink() and not (out / "test.csv").exists()
