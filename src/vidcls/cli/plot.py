"""`vidcls plot`: a run's training curves as a PNG."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="vidcls plot", description="Plot a run's training curves as a PNG.")
    parser.add_argument("run_dir", help="a run's log folder (lightning_logs/version_N)")
    parser.add_argument("--out", help="PNG path (default RUN_DIR/curves.png)")
    args = parser.parse_args(argv)
    from vidcls.evaluation.plots import plot_curves  # TensorBoard's reader: only once the arguments are good

    print(plot_curves(args.run_dir, args.out))
    return 0
