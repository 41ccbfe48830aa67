"""What produced a run's figures: the code version, the command line, the machine and the time,
written into every report so that figures from different code are never mixed up."""

from __future__ import annotations

import datetime
import os
import platform
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# What the benchmarks write into the checkout: a run rewrites them as it goes, so changes to
# them say nothing about the code that produced the figures.
BENCHMARK_OUTPUTS = ":(exclude,glob)BENCHMARKS*"


def code_version(root: Path = ROOT) -> str:
    """The project's commit, with "-dirty" when the working tree has changes other than the
    benchmarks' own output files; "unknown" without git (or outside a checkout)."""
    try:
        head = _git(root, "rev-parse", "HEAD").strip()
        changes = _git(root, "status", "--porcelain", "--", ".", BENCHMARK_OUTPUTS)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not re.fullmatch(r"[0-9a-f]{40}", head):
        return "unknown"
    return head + ("-dirty" if changes.strip() else "")


def _git(root: Path, *args: str) -> str:
    # --no-optional-locks: reading the status must not write the index.
    command = ["git", "--no-optional-locks", "-C", str(root), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=True).stdout


def cpuinfo(field: str) -> str:
    """The first non-empty value of a field of /proc/cpuinfo; "" without one (or the file)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == field and value.strip():
                return value.strip()
    except OSError:
        pass
    return ""


def cpu_name() -> str:
    """The processor's model name, as the platform or /proc/cpuinfo gives it."""
    return platform.processor() or cpuinfo("model name") or platform.machine() or "unknown"


# The instruction sets that decide how fast the int8 encoder runs: with AVX-512 VNNI one
# machine encoded 546 texts/s, without it (AVX2 only) another 295, on the same code.
VECTOR_EXTENSIONS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def vector_extensions() -> list[str]:
    """Which of VECTOR_EXTENSIONS the processor has ([] where /proc/cpuinfo is not there)."""
    flags = set(cpuinfo("flags").split())
    return [name for name in VECTOR_EXTENSIONS if name in flags]


def provenance(root: Path = ROOT) -> dict[str, Any]:
    """What produced a run's figures: code version, command line, machine and UTC time."""
    return {
        "commit": code_version(root),
        "command": shlex.join(sys.argv),
        "cores": os.cpu_count(),
        "cpu": cpu_name(),
        "cpu_extensions": vector_extensions(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
