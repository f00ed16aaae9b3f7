"""Kinetics tooling end to end through a local server: download → verify → prepare → fit."""

import csv

import pytest
import torch

from vidcls.cli import main

LABELS = ("massaging person's head", "dancing gangnam style")


def run(*argv: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    assert exit_.value.code == 0


def test_download_verify_prepare_fit(server, sources, kinetics_csv, tiny_args, tmp_path):
    lines, ids = [], []
    for n, label in enumerate(LABELS):
        for i, split in enumerate(("train", "train", "train", "val")):
            youtube_id = f"clip{n}{i}xxxxx"
            ids.append(youtube_id)
            lines.append(f'"{label}",{youtube_id},{1 + i},{4 + i},{split},0')
    server.serve(sources["faststart"], *ids)
    annotations = kinetics_csv(tmp_path / "kinetics.csv", lines)
    out, prepared = tmp_path / "kinetics", tmp_path / "prepared"

    run("data", "kinetics", "--csv", str(annotations), "--out", str(out), "--url-template", server.url, "--jobs", "2")
    run("data", "verify", str(out / "train.csv"))
    run("data", "prepare", str(out / "train.csv"), str(prepared))
    run("data", "prepare", str(out / "val.csv"), str(prepared))
    run("data", "verify", str(prepared / "train.csv"))

    manifest = prepared / "train_manifest.csv"
    main(["fit", *tiny_args, "--data.train_list", str(manifest), "--data.val_list", str(prepared / "val.csv"),
          "--data.classes", str(out / "classes.txt"), "--trainer.max_epochs", "1",
          "--trainer.default_root_dir", str(tmp_path / "run")])
    checkpoint = torch.load(next((tmp_path / "run").rglob("*.ckpt")), map_location="cpu", weights_only=True)
    assert checkpoint["hyper_parameters"]["classes"] == sorted(LABELS)  # the exact label texts
    with manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6 and all(row["ok"] == "true" for row in rows)
    assert all(int(row["height"]) == 120 for row in rows)  # 160x120 sources are never upscaled
