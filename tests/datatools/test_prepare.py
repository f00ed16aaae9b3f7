"""`vidcls data prepare`: layout, short side, keyframes, no audio, resuming, failures, list files."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers.videos import make_video
from vidcls.cli.data import main as data_main
from vidcls.data.formats.lists import read_list_file
from vidcls.datatools.prepare import PrepareConfig, prepare_dataset
from vidcls.errors import DatasetError

# relative path -> size: landscape and portrait sources above 256, one below it
# (kept as it is), and an AVI nested deeper than a class folder (becomes .mp4 at the same place).
SOURCES = {
    "train/wide/wide.mp4": (400, 300),
    "train/tall/tall.mov": (300, 400),
    "val/small/clips/small.avi": (160, 120),
}
CORRUPT = "val/small/corrupt.mp4"


def _probe(path: Path) -> dict:
    command = ["ffprobe", "-v", "error", "-show_streams", "-show_frames", "-of", "json", str(path)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def _keyframe_gaps(info: dict) -> list[int]:
    frames = [frame for frame in info["frames"] if frame["media_type"] == "video"]
    keys = [i for i, frame in enumerate(frames) if frame["key_frame"] == 1]
    return [b - a for a, b in zip(keys, [*keys[1:], len(frames)])]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for relative, size in SOURCES.items():
        # 2 s of testsrc in the container's default codecs, with a soundtrack, as a downloaded clip has
        make_video(src / relative, frames=50, fps=25, size=size, pattern="testsrc", codec=None, audio=True)
    (src / CORRUPT).write_text("not a video\n")
    (src / "train" / "wide" / ".leftover.partial.mp4").write_bytes(b"\0" * 10)  # hidden: never an input
    return src


@pytest.fixture(scope="module")
def prepared(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    dst = tmp_path_factory.mktemp("dst")
    stale = dst / "train" / "wide" / ".wide.partial.mp4"  # left by a killed run
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a video")
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = data_main(["prepare", str(corpus), str(dst), "--jobs", "2"])
    lines = [line for line in out.getvalue().splitlines() if not line.startswith("Re-encoding")]  # not the bar
    return {"dst": dst, "code": code, "lines": lines, "stale": stale}


def test_mirrors_the_layout_as_mp4(prepared):
    dst = prepared["dst"]
    written = sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*") if p.is_file())
    assert written == sorted(str(Path(relative).with_suffix(".mp4")) for relative in SOURCES)
    assert not prepared["stale"].exists()  # the stale partial was overwritten, then renamed into place


def test_scales_the_short_side_without_upscaling_and_drops_audio(prepared):
    # 400x300 -> 341.3x256, rounded to an even width; 160x120 is below 256 and stays as it is
    expected = {
        "train/wide/wide.mp4": (342, 256),
        "train/tall/tall.mp4": (256, 342),
        "val/small/clips/small.mp4": (160, 120),
    }
    for relative, size in expected.items():
        streams = _probe(prepared["dst"] / relative)["streams"]
        assert [s["codec_type"] for s in streams] == ["video"], relative
        assert (streams[0]["width"], streams[0]["height"]) == size
        assert (streams[0]["codec_name"], streams[0]["pix_fmt"]) == ("h264", "yuv420p")


def test_keyframes_come_every_gop_frames(corpus, prepared):
    before = _keyframe_gaps(_probe(corpus / "train/wide/wide.mp4"))
    after = _keyframe_gaps(_probe(prepared["dst"] / "train/wide/wide.mp4"))
    assert before == [50]  # the source: one keyframe in 2 s at 25 fps
    assert max(after) <= PrepareConfig().gop and len(after) >= 50 // PrepareConfig().gop


def test_encodes_for_fast_decoding(prepared):
    # x264 records its settings in the stream: fastdecode means CAVLC (cabac=0) and no deblocking
    settings = (prepared["dst"] / "train/wide/wide.mp4").read_bytes()
    assert b"cabac=0" in settings and b"deblock=0" in settings


def test_a_corrupt_input_is_reported_and_the_others_finish(corpus, prepared):
    assert prepared["code"] == 1
    lines = prepared["lines"]
    assert lines[0].startswith(f"{corpus / CORRUPT}: ") and len(lines[0].splitlines()) == 1
    assert "3 re-encoded, 0 up to date, 1 failed" in lines[1]
    assert lines[2].startswith("size: ") and "before" in lines[2] and "after" in lines[2]


def test_a_rerun_does_nothing(corpus, prepared):
    outputs = sorted(prepared["dst"].rglob("*.mp4"))
    stamps = [p.stat().st_mtime_ns for p in outputs]
    result = prepare_dataset(corpus, prepared["dst"], PrepareConfig(jobs=2))
    assert (result.encoded, result.skipped, [p for p, _ in result.failed]) == (0, 3, [corpus / CORRUPT])
    ((_, reason),) = result.failed
    assert reason and not reason.startswith(str(corpus))  # the reason, not led by the path
    assert [p.stat().st_mtime_ns for p in outputs] == stamps
    assert result.bytes_after == sum(p.stat().st_size for p in outputs)
    assert result.bytes_before == sum((corpus / relative).stat().st_size for relative in [*SOURCES, CORRUPT])


def test_a_list_file_is_rewritten_beside_the_outputs(corpus, tmp_path):
    lines = [f"{relative},{Path(relative).parts[1]}" for relative in [*SOURCES, CORRUPT]]
    (corpus / "train.csv").write_text("path,label\n" + "\n".join(lines) + "\n")
    config = PrepareConfig(short_side=96, fps=10, gop=4, jobs=2)
    result = prepare_dataset(corpus / "train.csv", tmp_path / "out", config)
    assert result.list_file == tmp_path / "out" / "train.csv"
    videos = read_list_file(result.list_file)  # paths relative to the list, every file there
    assert [(v.path.relative_to(tmp_path / "out").as_posix(), v.label) for v in videos] == [
        ("train/wide/wide.mp4", "wide"),
        ("train/tall/tall.mp4", "tall"),
        ("val/small/clips/small.mp4", "small"),
    ]  # the corrupt file failed and is left out
    info = _probe(tmp_path / "out" / "train/wide/wide.mp4")
    assert (info["streams"][0]["height"], info["streams"][0]["avg_frame_rate"]) == (96, "10/1")
    assert max(_keyframe_gaps(info)) <= 4


def test_refuses_to_write_over_its_input(corpus, tmp_path):
    with pytest.raises(DatasetError, match="must differ"):
        prepare_dataset(corpus / "train", corpus / "train")
    (tmp_path / "list.txt").write_text(f"{corpus / 'train/wide/wide.mp4'} wide\n")
    with pytest.raises(DatasetError, match="would overwrite"):
        prepare_dataset(tmp_path / "list.txt", tmp_path)


def test_a_multi_label_list_is_rewritten_with_its_label_sets(corpus, tmp_path):
    first, second = list(SOURCES)[:2]
    (corpus / "tags.csv").write_text(f"path,labels\n{first},wide;big\n{second},\n")
    result = prepare_dataset(corpus / "tags.csv", tmp_path / "out", PrepareConfig(short_side=96, jobs=2))
    assert [v.label for v in read_list_file(result.list_file)] == [("wide", "big"), ()]
