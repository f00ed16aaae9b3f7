"""A network from the user's own module, named by import path, goes through every command: fit, test, predict, export."""

import json
from pathlib import Path

import pytest
import torch

from vidcls.cli import main
from vidcls.models.checkpoint import load_network

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MODEL = "my_network:build_net"


def run(*argv):
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    assert exit_.value.code == 0, argv


def test_a_users_network_trains_tests_predicts_and_exports(synth_root, tmp_path, tiny_args, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))  # as PYTHONPATH=examples would
    args = [arg if arg != "simple3d" else MODEL for arg in tiny_args]  # tiny_args name simple3d: swap in the user's
    main(["fit", *args, "--data.root", str(synth_root), "--trainer.default_root_dir", str(tmp_path),
          "--trainer.max_epochs", "1", "--trainer.logger", "false", "--model.model_options", '{"width": 4}'])
    (checkpoint,) = tmp_path.rglob("*.ckpt")
    loaded = load_network(checkpoint)
    assert type(loaded.network).__name__ == "SmallVideoNet" and loaded.network.classifier.in_features == 8

    main(["test", *args, "--data.root", str(synth_root), "--trainer.default_root_dir", str(tmp_path / "test"),
          "--ckpt_path", str(checkpoint), "--trainer.limit_test_batches", "1.0"])
    report = json.loads(next((tmp_path / "test").rglob("report.json")).read_text())
    assert report["videos"] == len(list((synth_root / "test").rglob("*.mp4")))

    video = next((synth_root / "test").rglob("*.mp4"))
    capsys.readouterr()
    run("predict", "--checkpoint", str(checkpoint), "--json", "--device", "cpu", str(video))
    (row,) = json.loads(capsys.readouterr().out)
    assert sum(p["probability"] for p in row["predictions"]) == pytest.approx(1, abs=1e-4)

    output = tmp_path / "net.pt"
    run("export", "--checkpoint", str(checkpoint), "--format", "torchscript", "--output", str(output))
    clips = torch.randn(2, *loaded.clip.input_shape)
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(output))(clips), loaded.network(clips), rtol=1e-4, atol=1e-5)
