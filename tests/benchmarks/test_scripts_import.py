"""Every benchmark script imports, and every vidcls name it imports (inside functions too) is there.

A name that moved in vidcls breaks the script here, not when someone next runs it.
"""

import ast
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def vidcls_names(script: Path) -> set[tuple[str, str]]:
    """(module, name) of each ``from vidcls... import name`` anywhere in the script."""
    return {(node.module, alias.name) for node in ast.walk(ast.parse(script.read_text()))
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vidcls") for alias in node.names}


def test_every_benchmark_script_and_the_vidcls_names_it_uses_import():
    scripts = sorted(BENCHMARKS.glob("*.py"))
    names = sorted(set().union(*map(vidcls_names, scripts)))
    assert len(scripts) >= 7 and len(names) >= 20  # the scripts themselves, not an empty folder
    code = "\n".join([
        "import importlib, sys",
        f"sys.path.insert(0, {str(BENCHMARKS)!r})",
        *(f"import {script.stem}" for script in scripts),
        f"missing = [f'{{m}}.{{n}}' for m, n in {names!r} if not hasattr(importlib.import_module(m), n)]",
        "assert not missing, missing",
    ])
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
