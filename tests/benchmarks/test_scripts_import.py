"""Every benchmark script imports: a name that moved in vidcls breaks the script here, not when someone runs it."""

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_every_benchmark_script_imports():
    scripts = sorted(path.stem for path in BENCHMARKS.glob("*.py"))
    code = f"import sys; sys.path.insert(0, {str(BENCHMARKS)!r})\n" + "".join(f"import {name}\n" for name in scripts)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(scripts) >= 7  # the scripts themselves, not an empty folder
