"""Generate the Python gRPC code from proto/ into the importable package `partmatch.v1`.

Run by `make install` (and by setup.py's build step for wheels). The output is never edited
by hand and never committed: it is rebuilt from the .proto files whenever they change.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"


def generate(out_dir: Path = ROOT) -> list[Path]:
    from grpc_tools import protoc  # build-time dependency only

    protos = sorted(PROTO_DIR.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_DIR}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *[str(p) for p in protos],
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed for {', '.join(map(str, protos))}")
    # protoc writes modules, not packages: mark every generated folder as a package.
    for proto in protos:
        folder = out_dir / proto.relative_to(PROTO_DIR).parent
        while folder != out_dir:
            (folder / "__init__.py").touch()
            folder = folder.parent
    return protos


if __name__ == "__main__":
    generated = generate()
    print(f"generated Python code for {len(generated)} proto file(s)", file=sys.stderr)
