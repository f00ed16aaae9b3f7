"""Text commands start at once: they import neither torch nor Lightning; prediction and export need no training stack
(they run with Lightning and torchmetrics absent); importing vidcls changes no global state."""

import json
import os
import subprocess
import sys
import warnings

import pytest
import torch

from vidcls.inference.predictor import Predictor
from vidcls.models.checkpoint import load_network

HEAVY = ("torch", "lightning", "torchvision", "torchcodec", "pytorchvideo")

RUN_AND_LIST_HEAVY = """
import json, sys
from vidcls.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(name for name in {heavy} if name in sys.modules)))
"""


def heavy_modules_loaded(*args: str) -> list[str]:
    """Run ``vidcls ARGS`` in a fresh interpreter; the heavy libraries it imported (last line of its output)."""
    code = RUN_AND_LIST_HEAVY.format(heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["--help"], ["models"], ["models", "x3d*"], ["data", "--help"],
                                  ["data", "verify", "--help"], ["data", "prepare", "--help"], ["predict", "--help"],
                                  ["export", "--help"], ["bench", "--help"], ["plot", "--help"]])
def test_text_commands_import_no_heavy_library(args):
    assert heavy_modules_loaded(*args) == []


def test_kinetics_dry_run_reads_the_csv_without_torch(tmp_path):
    csv = tmp_path / "val.csv"
    csv.write_text("label,youtube_id,time_start,time_end,split\nabseiling,abc,0,10,val\n")
    assert heavy_modules_loaded("data", "kinetics", "--csv", str(csv), "--out", str(tmp_path / "k"), "--dry-run") == []


def test_kinetics_shards_and_merge_read_text_without_torch(tmp_path):
    csv = tmp_path / "val.csv"
    csv.write_text("label,youtube_id,time_start,time_end,split\nabseiling,abc,0,10,val\n")
    (tmp_path / "flat").mkdir()
    kinetics = ["data", "kinetics", "--csv", str(csv), "--out", str(tmp_path / "k")]
    assert heavy_modules_loaded(*kinetics, "--from-dir", str(tmp_path / "flat"), "--shard", "0/1") == []
    assert heavy_modules_loaded(*kinetics, "--merge") == []
    assert (tmp_path / "k" / "download_report.csv").is_file()


def test_verify_merge_reads_manifests_without_torch(tmp_path):
    (tmp_path / "val" / "a").mkdir(parents=True)
    (tmp_path / "val" / "a" / "v.mp4").write_bytes(b"")
    (tmp_path / "manifest.0-of-1.csv").write_text("path,label,frames,fps,duration,width,height,ok,error\n"
                                                  "val/a/v.mp4,a,,,,,,false,empty file\n")
    assert heavy_modules_loaded("data", "verify", str(tmp_path), "--merge", "--allow-bad") == []
    assert (tmp_path / "manifest.csv").read_text().endswith("val/a/v.mp4,a,,,,,,false,empty file\n")


def test_verify_decodes_without_lightning(make_counter_video, tmp_path):
    video = make_counter_video()
    loaded = heavy_modules_loaded("data", "verify", str(video.parent), "--manifest", str(tmp_path / "m.csv"), "--json")
    assert "lightning" not in loaded


TRAINING_STACK = ("lightning", "lightning_fabric", "pytorch_lightning", "torchmetrics")


@pytest.mark.parametrize("module", ["vidcls.inference.predictor", "vidcls.inference.export", "vidcls.cli.predict"])
def test_prediction_and_export_modules_import_no_training_stack(module):
    code = f"import importlib, json, sys; importlib.import_module({module!r}); print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert [name for name in loaded if name.partition(".")[0] in TRAINING_STACK or name.startswith("vidcls.training")] == []


RUN_WITHOUT_TRAINING_STACK = """
import contextlib, io, json, sys
for name in {blocked}:
    sys.modules[name] = None  # as if not installed: importing it, or anything in it, raises ImportError
from vidcls.cli import main
results = []
for command in json.loads(sys.argv[1]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main(command)
        except SystemExit as exit_:
            results.append([exit_.code, out.getvalue()])
print(json.dumps(results))
"""


def test_predict_and_export_run_without_lightning_installed(tiny_checkpoint, synth_root, tmp_path):
    video = synth_root / "test" / "moving_up" / "moving_up_0000.mp4"
    exported = tmp_path / "model.pt"
    commands = [["predict", "--checkpoint", str(tiny_checkpoint), "--device", "cpu", "--json", "--top-k", "4", str(video)],
                ["export", "--checkpoint", str(tiny_checkpoint), "--format", "torchscript", "--output", str(exported)]]
    code = RUN_WITHOUT_TRAINING_STACK.format(blocked=TRAINING_STACK)
    done = subprocess.run([sys.executable, "-c", code, json.dumps(commands)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (predict_status, predicted), (export_status, _) = json.loads(done.stdout.strip().splitlines()[-1])
    assert (predict_status, export_status) == (0, 0), done.stderr

    # the same figures as in this process, where Lightning is loaded
    expected = Predictor.from_checkpoint(tiny_checkpoint, device="cpu").predict(video, top_k=4)
    assert {p["class"]: p["probability"] for p in json.loads(predicted)[0]["predictions"]} == pytest.approx(dict(expected))
    network = load_network(tiny_checkpoint).network
    clips = torch.randn(3, 3, 4, 32, 32)
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated in torch 2.14
        assert torch.allclose(torch.jit.load(str(exported))(clips), network(clips), atol=1e-5)


IMPORT_EVERYTHING = """
import importlib, json, logging, pkgutil, warnings
import matplotlib
# the libraries vidcls uses may set filters of their own when imported: only vidcls's own effect counts
import av, lightning, pytorchvideo, tensorboard, torch, torchcodec, torchdata.stateful_dataloader, torchvision, yt_dlp
before = (matplotlib.get_backend(), list(warnings.filters), [list(logging.getLogger(n).filters) for n in logging.root.manager.loggerDict])
import vidcls
for module in pkgutil.walk_packages(vidcls.__path__, "vidcls."):
    if module.name != "vidcls.__main__":  # runs the command
        importlib.import_module(module.name)
after = (matplotlib.get_backend(), list(warnings.filters), [list(logging.getLogger(n).filters) for n in logging.root.manager.loggerDict])
print(json.dumps({"backend": [before[0], after[0]], "filters_same": before[1] == after[1]}))
"""


def test_importing_every_vidcls_module_leaves_matplotlib_and_warnings_alone():
    env_backend = "svg"  # what a notebook or a user's script chose
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MPLBACKEND": env_backend})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == [env_backend, env_backend]
    assert result["filters_same"]
