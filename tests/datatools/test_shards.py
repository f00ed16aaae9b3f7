"""The shard rule: parsing I/N, a stable partition whatever the order or the process, shard file names."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys

import pytest

from vidcls.datatools.shards import Shard, check_complete, parse_shard, select, shard_file, shard_files
from vidcls.errors import DatasetError, VidclsError

KEYS = [f"clip{i:03d} {i % 7}0 {i % 7 + 1}0" for i in range(300)]


@pytest.mark.parametrize("text, shard", [("0/1", Shard(0, 1)), ("2/3", Shard(2, 3)), (" 7/8 ", Shard(7, 8))])
def test_parses_index_and_count(text, shard):
    assert parse_shard(text) == shard
    assert str(shard) == text.strip()


@pytest.mark.parametrize(
    "text, message",
    [
        ("3/2", "shard 3/2: I must be below N (shards are numbered 0 to 1)"),
        ("2/2", "shard 2/2: I must be below N"),
        ("0/0", "shard 0/0: N must be at least 1"),
        ("1", "shard '1': expected I/N"),
        ("-1/2", "shard '-1/2': expected I/N"),
        ("a/b", "shard 'a/b': expected I/N"),
    ],
)
def test_bad_shards_are_one_line_errors(text, message):
    with pytest.raises(VidclsError, match="^" + re.escape(message)) as error:
        parse_shard(text)
    assert "\n" not in str(error.value)


def test_shards_partition_the_items_whatever_their_order():
    shares = [select(KEYS, str, Shard(index, 4)) for index in range(4)]
    assert sorted(key for share in shares for key in share) == sorted(KEYS)  # each item in exactly one shard
    assert all(40 < len(share) < 110 for share in shares)  # about a quarter each (75 expected)
    shuffled = random.Random(0).sample(KEYS, len(KEYS))
    assert [set(select(shuffled, str, Shard(index, 4))) for index in range(4)] == [set(s) for s in shares]
    assert all(select(shuffled, str, Shard(index, 4)) == [k for k in shuffled if k in shares[index]] for index in range(4))
    assert select(KEYS, str, None) == KEYS  # unsharded: everything, in order


def test_every_process_agrees_on_the_shards():
    """Python's own hash() differs per process; the shard rule must not."""
    code = "import json, sys; from vidcls.datatools.shards import Shard; " \
           "print(json.dumps([Shard.of(k, 5).index for k in json.loads(sys.stdin.read())]))"
    here = [Shard.of(key, 5).index for key in KEYS]
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", code], input=json.dumps(KEYS), capture_output=True, text=True,
                              env={"PYTHONHASHSEED": seed, "PYTHONPATH": ":".join(sys.path)}, check=True)
        assert json.loads(done.stdout) == here


def test_shard_files_are_named_and_found_again(tmp_path):
    report = tmp_path / "report.csv"
    assert shard_file(report, None) == report
    assert shard_file(report, Shard(2, 8)) == tmp_path / "report.2-of-8.csv"
    for index in (0, 2):
        shard_file(report, Shard(index, 3)).write_text("x")
    (tmp_path / ".report.1-of-3.partial.csv").write_text("half")  # a shard still writing: not its file
    report.write_text("the merged file")
    (tmp_path / "report.1-of-3.json").write_text("{}")  # another kind of file
    assert shard_files(report) == {Shard(0, 3): tmp_path / "report.0-of-3.csv", Shard(1, 3): None,
                                   Shard(2, 3): tmp_path / "report.2-of-3.csv"}


def test_shard_files_refuse_none_and_mixed_counts(tmp_path):
    report = tmp_path / "report.csv"
    with pytest.raises(DatasetError, match=f"^{tmp_path}: no shard files report.I-of-N.csv to merge$"):
        shard_files(report)
    for shard in (Shard(0, 2), Shard(1, 2), Shard(0, 3)):
        shard_file(report, shard).write_text("x")
    with pytest.raises(DatasetError, match=r"report shards of runs with different N \(2 of N=2, 1 of N=3\)"):
        shard_files(report)


def test_check_complete_names_every_problem_in_one_line(tmp_path):
    check_complete(tmp_path, {"missing": [], "unfinished": []})  # nothing wrong: no error
    with pytest.raises(DatasetError) as error:
        check_complete(tmp_path, {"missing": [Shard(3, 4), Shard(1, 4)], "unfinished": [Shard(0, 4)], "other": []})
    assert str(error.value) == f"{tmp_path}: cannot merge, shards missing: 1/4 3/4; unfinished: 0/4"
