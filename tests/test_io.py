"""Process-wide helpers: malloc kept for long runs."""

import os
import subprocess
import sys

import pytest

# 64 MiB malloc'd, written and freed twice; prints keep_freed_memory's answer and the page faults of the second time
FAULTS = """
import ctypes, resource, sys
from vidcls.io import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else None
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
def faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = libc.malloc(64 << 20)
    ctypes.memset(block, 1, 64 << 20)
    libc.free(block)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
faults()
print(kept, faults())
"""


def run_faults(mode: str, **env: str) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES" and not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", FAULTS, mode], env={**clean, **env}, capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_freed_memory_is_reused_instead_of_faulted_in_afresh():
    _, default_faults = run_faults("default")
    if default_faults < 1000:
        pytest.skip(f"a fresh 64 MiB block faulted {default_faults} times here (huge pages): nothing to save")
    kept, kept_faults = run_faults("keep")
    assert kept == "True" and kept_faults < default_faults / 10
    theirs, their_faults = run_faults("keep", MALLOC_ARENA_MAX="2")  # the user tuned malloc: theirs stays
    assert theirs == "False" and their_faults > default_faults / 2
