"""The model registry on disk, read side: what the server may load.

    models/
      current            the name of the current version (replaced atomically)
      v0003/
        metadata.json    version, base model, parent, data fingerprint, params, metrics,
                         created_at, and the sha256 of every other file
        encoder/         a sentence-transformers model
        head.npz         the classification head (matcher.head.Head)
        fusion.json      learned fusion, calibration and decision thresholds (optional)

A version is complete only when metadata.json exists and every file it lists has the
recorded checksum; anything else is refused, so a half-written or damaged directory can
never replace a model that works. Writing versions is indexer.registry_admin's job.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CURRENT = "current"
METADATA = "metadata.json"
# What a version is called (v0001, v0002, ...): the only names ever joined to the registry's
# path, so no caller can point a load outside it ("/etc", "../../x").
# ASCII digits, and few enough that the name is always a valid file name.
VERSION_NAME = re.compile(r"v([0-9]{4,12})")


class ModelError(RuntimeError):
    """A model version that cannot be loaded; the message says which and why."""


@dataclass(frozen=True)
class ModelVersion:
    version: str
    path: Path
    metadata: dict[str, Any]

    @property
    def encoder_path(self) -> Path:
        return self.path / "encoder"

    @property
    def head_path(self) -> Path:
        return self.path / "head.npz"

    @property
    def fusion_path(self) -> Path:
        return self.path / "fusion.json"

    @property
    def reranker_path(self) -> Path:
        """The version's reranker export; absent for versions trained without one."""
        return self.path / "reranker"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_version(models_dir: Path) -> str | None:
    pointer = models_dir / CURRENT
    if not pointer.exists():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    return name or None


def check_version_name(version: str) -> str:
    if not isinstance(version, str) or not VERSION_NAME.fullmatch(version):
        shown = version[:40] if isinstance(version, str) else type(version).__name__
        raise ModelError(f"{shown!r} is not a model version name (v0001, v0002, ...)")
    return version


def open_version(models_dir: Path, version: str) -> ModelVersion:
    """A verified version; raises ModelError if it is missing, incomplete or corrupt. The
    messages name the version, never a path: they reach remote callers."""
    path = models_dir / check_version_name(version)
    meta_path = path / METADATA
    if not meta_path.is_file():
        raise ModelError(f"model {version}: not in the registry, or incomplete (no {METADATA})")
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        files: dict[str, str] = metadata["files"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ModelError(f"model {version}: unreadable {METADATA}: {exc}") from None
    for relative, expected in files.items():
        target = path / relative
        if not target.is_file():
            raise ModelError(f"model {version}: missing file {relative}")
        if file_digest(target) != expected:
            raise ModelError(f"model {version}: checksum mismatch for {relative} (corrupt)")
    if not (path / "encoder").is_dir() or "head.npz" not in files:
        raise ModelError(f"model {version}: needs encoder/ and head.npz")
    return ModelVersion(version, path, metadata)


def open_current(models_dir: Path) -> ModelVersion | None:
    version = current_version(models_dir)
    return None if version is None else open_version(models_dir, version)
