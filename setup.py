"""Generates the gRPC code from proto/ before setuptools looks for packages.

The generated package `partmatch` must exist when setuptools discovers packages, or it is left
out: of the wheel, and of an editable install's import mapping (`pip install -e .` then
imports `partmatch` only while the repository root happens to be on sys.path). So generation
runs when this file is loaded, before `setup()`, for every kind of build: wheel, sdist,
editable, Docker.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import setup


def generate_proto() -> None:
    spec = importlib.util.spec_from_file_location(
        "proto_generate", Path(__file__).parent / "proto" / "generate.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate()


generate_proto()
setup()
