"""A hostile corpus made at test time: odd-but-valid videos must work, broken ones must be named, nothing hangs.

Covers every kind of file the "Reliability" issue lists, through the reader (both decoders),
``fit``, ``test``, ``data verify`` and ``predict``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from tests.helpers.videos import make_video
from vidcls.data.decoding import VideoReader
from vidcls.data.info import check_bounds
from vidcls.data.sampling import clip_frame_times, uniform_clip_starts
from vidcls.datatools.synthetic import SynthConfig, synthesize_dataset
from vidcls.errors import VideoReadError

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}
CLASSES = ("moving_left", "moving_right")
PLAIN = {"fps": 15, "size": (64, 48), "pattern": "testsrc2"}  # the corpus's plain video: moving shapes, 15 fps, 64x48
TEN_BIT = {"pixel_format": "yuv420p10le", "options": ("-preset", "ultrafast", "-profile:v", "high10")}


def ffmpeg(*args: str) -> None:
    """FFmpeg on files the generator does not make: remuxing, joining, audio alone."""
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=60)


def x264(path: Path, frames: int = 38, **encoding) -> Path:
    """``frames`` (38: 2.5 s) of the plain video by x264's fastest preset, or as ``encoding`` says."""
    return make_video(path, **{**PLAIN, "frames": frames, "options": ("-preset", "ultrafast"), **encoding})


def has_10bit_x264() -> bool:
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"vidcls_10bit_probe_{os.getpid()}.mp4"
    try:
        x264(probe, 3, **TEN_BIT)
        return True
    except subprocess.CalledProcessError:
        return False
    finally:
        probe.unlink(missing_ok=True)


def mdat_span(data: bytes) -> tuple[int, int]:
    """(start, end) of the mdat box's payload in an MP4 file."""
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset:offset + 4], "big")
        kind = data[offset + 4:offset + 8]
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[offset + 8:offset + 16], "big"), 16
        elif size == 0:
            size = len(data) - offset
        if kind == b"mdat":
            return offset + header, offset + size
        offset += size
    raise ValueError("no mdat box")


def make_good(folder: Path) -> dict[str, Path]:
    """Odd but valid videos, by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    good = {}
    good["short"] = x264(folder / "short_0.5s.mp4", 8)
    good["vp9"] = x264(folder / "vp9.webm", codec="libvpx-vp9", options=("-deadline", "realtime", "-cpu-used", "8",
                                                                           "-b:v", "200k"))
    good["avi"] = x264(folder / "mpeg4.avi", codec="mpeg4", options=("-q:v", "5", "-bf", "2"))
    if has_10bit_x264():
        good["10bit"] = x264(folder / "tenbit.mp4", **TEN_BIT)
    # FFmpeg 5.1 writes the display matrix from a "rotate" tag only when copying the stream (6.0+: -display_rotation)
    upright = x264(folder / "upright.mp4")
    good["rotated"] = folder / "rotated.mp4"
    ffmpeg("-i", str(upright), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(good["rotated"]))
    upright.unlink()
    good["1080p"] = x264(folder / "big_1080p.mp4", 10, fps=10, size=(1920, 1080))
    vfr = folder / "vfr.mkv"  # 1 s at 10 fps, then 1.5 s at 30 fps, timestamps kept as they are
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1", "-f", "lavfi", "-i",
           "testsrc2=size=64x48:rate=30:duration=1.5", "-filter_complex",
           "[0:v]settb=1/1000,setpts=PTS-STARTPTS[a];[1:v]settb=1/1000,setpts=PTS-STARTPTS[b];[a][b]concat=n=2:v=1[v]",
           "-map", "[v]", "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           str(vfr))
    good["vfr"] = vfr
    good["non_ascii"] = x264(folder / "vidéo_日本.mp4")
    return good


def make_bad(folder: Path, donor: Path) -> dict[str, Path]:
    """Broken files, by kind; ``donor`` is a good MP4 (2.5 s, 64x48) to damage."""
    folder.mkdir(parents=True, exist_ok=True)
    data = donor.read_bytes()
    bad = {}
    bad["empty"] = folder / "empty.mp4"
    bad["empty"].write_bytes(b"")
    bad["random"] = folder / "random.mp4"
    bad["random"].write_bytes(bytes((i * 7919 + 13) % 251 for i in range(20_000)))
    bad["truncated"] = folder / "truncated.mp4"
    bad["truncated"].write_bytes(data[: int(len(data) * 0.4)])
    bad["text"] = folder / "notes.mp4"
    bad["text"].write_text("this is not a video\n" * 50)
    bad["audio_only"] = folder / "audio_only.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", str(bad["audio_only"]))
    start, end = mdat_span(data)
    zeroed = bytearray(data)
    zeroed[start + 64:end] = bytes(end - start - 64)
    bad["zero_frames"] = folder / "zeroed_payload.mp4"
    bad["zero_frames"].write_bytes(bytes(zeroed))
    garbled = bytearray(data)
    middle = (start + end) // 2
    garbled[middle - 2000:middle + 2000] = bytes((i * 31 + 7) % 256 for i in range(4000))
    bad["mid_error"] = folder / "garbled_middle.mp4"
    bad["mid_error"].write_bytes(bytes(garbled))
    return bad


GOOD_KINDS = ("short", "vp9", "avi", "10bit", "rotated", "1080p", "vfr", "non_ascii")
BAD_KINDS = ("empty", "random", "truncated", "text", "audio_only", "zero_frames", "mid_error")
TEST_BAD = ("empty", "truncated", "audio_only")  # the bad kinds also put in test/ (all go in train/)


class Corpus:
    def __init__(self, root: Path, good: dict[str, Path], bad: dict[str, Path], test_bad: dict[str, Path]):
        self.root, self.good, self.bad, self.test_bad = root, good, bad, test_bad

    def all_bad(self) -> set[Path]:
        return {*self.bad.values(), *self.test_bad.values()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """``root/{train,val,test}/{moving_left,moving_right}``: synthetic videos, the odd-but-valid ones, broken ones."""
    work = tmp_path_factory.mktemp("hostile")
    root = work / "data"
    synthesize_dataset(root, {"train": 4, "val": 1, "test": 2}, SynthConfig(seed=3), workers=1, classes=CLASSES)
    made = make_good(work / "made")
    good = {}
    for n, (kind, path) in enumerate(made.items()):  # spread over the two classes of train
        good[kind] = root / "train" / CLASSES[n % 2] / path.name
        shutil.move(path, good[kind])
        if kind in ("rotated", "vp9", "avi"):  # and a few in test
            shutil.copy(good[kind], root / "test" / CLASSES[n % 2] / path.name)
    donor = x264(work / "donor.mp4", keyframe_interval=5)
    bad = {}
    for n, (kind, path) in enumerate(make_bad(work / "broken", donor).items()):
        bad[kind] = root / "train" / CLASSES[n % 2] / f"bad_{path.name}"
        shutil.copy(path, bad[kind])
    test_bad = {}
    for n, kind in enumerate(TEST_BAD):
        test_bad[kind] = root / "test" / CLASSES[n % 2] / f"bad_{bad[kind].name}"
        shutil.copy(bad[kind], test_bad[kind])
    return Corpus(root, good, bad, test_bad)


def in_time(function, *args, timeout: float = 30.0):
    """``function(*args)``, failing the test (not hanging it) when it runs over ``timeout`` seconds."""
    result: dict = {}

    def run() -> None:
        try:
            result["value"] = function(*args)
        except BaseException as error:  # handed to the test thread
            result["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"{function.__name__}{args} still running after {timeout} s"
    if "error" in result:
        raise result["error"]
    return result["value"]


def read_clip(path: Path, decoder: str) -> tuple[torch.Tensor, object]:
    with VideoReader(path, decoder=decoder) as reader:
        info = reader.info
        start = uniform_clip_starts(info, 2.0, 1)[0]
        return reader.frames_at(clip_frame_times(start, 2.0, 8, info.fps)), info


def coded_size(path: Path) -> tuple[int, int]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True).stdout
    width, height = out.splitlines()[0].split(",")[:2]
    return int(width), int(height)


def test_corpus_is_what_it_claims(corpus):
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-select_streams", "v", str(corpus.good["rotated"])],
                           capture_output=True, text=True, check=True).stdout
    assert "rotation=-90" in probe or "rotation=90" in probe, "no display rotation written"
    if "10bit" in corpus.good:
        streams = subprocess.run(["ffprobe", "-v", "error", "-show_streams", str(corpus.good["10bit"])],
                                 capture_output=True, text=True, check=True).stdout
        assert "pix_fmt=yuv420p10le" in streams
    assert corpus.bad["empty"].stat().st_size == 0


@pytest.mark.parametrize("decoder", ["pyav", "torchcodec"])
@pytest.mark.parametrize("kind", GOOD_KINDS)
def test_odd_but_valid_videos_decode_a_clip(corpus, kind, decoder):
    if kind not in corpus.good:
        pytest.skip("this FFmpeg's libx264 cannot encode 10-bit (yuv420p10le)")
    path = corpus.good[kind]
    frames, info = in_time(read_clip, path, decoder)
    width, height = coded_size(path)
    if kind == "rotated":  # display rotation applied: width and height swap
        width, height = height, width
    assert frames.dtype == torch.uint8 and tuple(frames.shape) == (8, 3, height, width)
    if kind == "short":  # 0.5 s of a 2 s clip: frames repeat (the last one is held)
        assert info.duration < 1 and torch.equal(frames[-1], frames[-2])


def test_rotation_matches_ffmpeg_autorotation(corpus):
    path = corpus.good["rotated"]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt",
                          "rgb24", "-"], capture_output=True, check=True).stdout
    for decoder in ("pyav", "torchcodec"):
        with VideoReader(path, decoder=decoder) as reader:
            frame = reader.frames_at([0.0])[0]
        expected = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(frame.shape[1], frame.shape[2], 3)
        assert torch.equal(frame, expected.permute(2, 0, 1)), decoder


@pytest.mark.parametrize("decoder", ["pyav", "torchcodec"])
@pytest.mark.parametrize("kind", BAD_KINDS)
def test_broken_files_raise_one_line_naming_the_file(corpus, kind, decoder):
    path = corpus.bad[kind]
    with pytest.raises(VideoReadError) as error:
        in_time(read_clip, path, decoder)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and "\n" not in message and error.value.path == path


def test_1080p_clip_stays_within_memory(corpus):
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, the peak so far
    frames, _ = in_time(read_clip, corpus.good["1080p"], "pyav")
    assert tuple(frames.shape) == (8, 3, 1080, 1920)  # 50 MB
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < 500 * 1024, f"peak memory grew by {grown / 1024:.0f} MB"


def test_bounds_refuse_large_or_long_videos_from_the_header(corpus):
    path = corpus.good["1080p"]
    with VideoReader(path) as reader:
        check_bounds(path, reader.info)  # the defaults let 1080p through
        with pytest.raises(VideoReadError, match=r"1920x1080 frames are 2073600 pixels, above the limit of 100000"):
            check_bounds(path, reader.info, max_pixels=100_000)
        with pytest.raises(VideoReadError, match=r"1\.0 s long, above the limit of 0\.5 s"):
            check_bounds(path, reader.info, max_pixels=None, max_duration=0.5)


def run_vidcls(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vidcls", *args], capture_output=True, text=True, env=ENV,
                          timeout=timeout)


@pytest.fixture(scope="module")
def fitted(corpus, tmp_path_factory, tiny_args) -> tuple[Path, subprocess.CompletedProcess]:
    """One epoch over every train video (bad ones included), in a subprocess."""
    out = tmp_path_factory.mktemp("fit")
    result = run_vidcls("fit", *tiny_args, "--trainer.limit_train_batches", "1.0", "--data.root", str(corpus.root),
                        "--trainer.default_root_dir", str(out), "--trainer.max_epochs", "1",
                        "--bad_videos.max_fraction", "0.5")
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def bad_video_rows(folder: Path) -> dict[Path, str]:
    (log,) = folder.rglob("bad_videos.csv")
    with open(log, newline="", encoding="utf-8") as handle:
        return {Path(path): reason for path, reason in csv.reader(handle)}


def test_fit_replaces_and_names_the_broken_videos(corpus, fitted):
    out, _ = fitted
    rows = bad_video_rows(out)
    named = set(rows)
    assert named <= set(corpus.bad.values()), named - set(corpus.bad.values())
    # every train video was read once; damage in the middle shows only if the random clip reaches it
    assert named >= {corpus.bad[kind] for kind in BAD_KINDS if kind != "mid_error"}
    assert all(reason.strip() for reason in rows.values())
    assert not named & set(corpus.good.values())


def test_test_reports_every_readable_test_video(corpus, fitted, tiny_args):
    out, _ = fitted
    checkpoint = next(out.rglob("*.ckpt"))
    test_out = out / "test_run"
    result = run_vidcls("test", *tiny_args, "--trainer.limit_test_batches", "1.0", "--data.root", str(corpus.root),
                        "--trainer.default_root_dir", str(test_out), "--ckpt_path", str(checkpoint),
                        "--bad_videos.max_fraction", "0.5")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(max(test_out.rglob("report.json"), key=lambda p: p.stat().st_mtime).read_text())
    test_videos = [p for p in (corpus.root / "test").rglob("*") if p.is_file()]
    readable = [p for p in test_videos if p not in corpus.test_bad.values()]
    assert report["videos"] == len(readable)  # each broken one was replaced by a readable one, counted once
    assert set(bad_video_rows(test_out)) == set(corpus.test_bad.values())


def test_verify_flags_exactly_the_broken_files(corpus, tmp_path, capsys):
    from vidcls.cli.data import main as data_main

    manifest = tmp_path / "manifest.csv"
    args = ["verify", str(corpus.root), "--json", "--allow-bad", "--manifest", str(manifest), "--jobs", "2"]
    assert in_time(data_main, [*args, "--full"], timeout=60) == 0
    report = json.loads(capsys.readouterr().out)
    assert {Path(bad["path"]) for bad in report["bad_files"]} == corpus.all_bad()
    assert all(bad["error"] for bad in report["bad_files"])

    # without --full only the first and last frames are decoded: damage in the middle goes unseen
    assert in_time(data_main, args, timeout=60) == 0
    flagged = {Path(bad["path"]) for bad in json.loads(capsys.readouterr().out)["bad_files"]}
    assert flagged == corpus.all_bad() - {corpus.bad["mid_error"]}

    # a frame size limit refuses the 1080p file from its header, naming the limit
    assert in_time(data_main, [*args, "--max-pixels", "100000"], timeout=60) == 0
    bad = {Path(b["path"]): b["error"] for b in json.loads(capsys.readouterr().out)["bad_files"]}
    assert "above the limit of 100000" in bad[corpus.good["1080p"]]


def test_predict_gives_predictions_or_errors_per_file(corpus, fitted, capsys):
    from vidcls.cli.predict import main as predict_main

    out, _ = fitted
    checkpoint = next(out.rglob("*.ckpt"))
    train = corpus.root / "train"
    code = in_time(predict_main, [str(train), "--checkpoint", str(checkpoint), "--json", "--clips", "1",
                                  "--max-pixels", "100000"], timeout=60)
    entries = {Path(entry["path"]): entry for entry in json.loads(capsys.readouterr().out)}
    assert code == 1
    assert set(entries) == {p for p in train.rglob("*") if p.is_file()}
    refused = {corpus.good["1080p"]}
    for path, entry in entries.items():
        if path in corpus.bad.values() or path in refused:
            assert entry["error"] and "\n" not in entry["error"], path
        else:
            assert [p["class"] for p in entry["predictions"]][:2] and "error" not in entry, path
    assert "above the limit of 100000" in entries[corpus.good["1080p"]]["error"]
    # within the default limit the 1080p file is predicted
    code = in_time(predict_main, [str(corpus.good["1080p"]), "--checkpoint", str(checkpoint), "--json",
                                  "--clips", "1"], timeout=60)
    assert code == 0 and json.loads(capsys.readouterr().out)[0]["predictions"]


def test_avi_with_b_frames_reads_up_to_its_last_frame(corpus):
    """torchcodec 0.17 fails on the last frames of an AVI with packed B-frames; the reader falls back to PyAV."""
    path = corpus.good["avi"]
    with VideoReader(path) as reader:
        info = reader.info
        times = [info.begin + (i + 0.5) / info.fps for i in range(info.num_frames)]
        tail = reader.frames_at(times[-4:])
        head = reader.frames_at(times[-8:-4])
    assert tail.shape[0] == 4 and head.shape[0] == 4
    from torchcodec.decoders import VideoDecoder

    expected = VideoDecoder(str(path)).get_frames_played_at(seconds=times[-8:-4]).data  # before the failing end
    assert torch.equal(head, expected)
