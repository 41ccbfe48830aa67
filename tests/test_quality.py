"""Lint, types and generated code are part of the suite, so CI fails on them like on a bug."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff() -> None:
    result = run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    result = run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_grpc_code_matches_the_proto(tmp_path: Path) -> None:
    """The committed .proto is the only source: the installed code is exactly what it makes."""
    sys.path.insert(0, str(ROOT / "proto"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    generate(tmp_path)
    for fresh in (tmp_path / "partmatch" / "v1").glob("*.py*"):
        installed = ROOT / "partmatch" / "v1" / fresh.name
        assert installed.read_text() == fresh.read_text(), f"{installed} is stale: make proto"
