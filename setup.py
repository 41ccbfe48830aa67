"""Generates the gRPC code from proto/ whenever the package is built (wheel, sdist, editable)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithProto(build_py):
    def run(self) -> None:
        spec = importlib.util.spec_from_file_location(
            "proto_generate", Path(__file__).parent / "proto" / "generate.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.generate()
        super().run()


setup(cmdclass={"build_py": BuildWithProto})
