"""`vidcls models`: the registered models, one line each (no torch import: the catalogue is plain data)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from vidcls.models import describe_model, list_models


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="vidcls models", description="List the registered models.")
    parser.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'x3d*'")
    args = parser.parse_args(argv)
    for name in list_models(args.pattern):
        print(f"{name:16s} {describe_model(name)}")
    return 0
