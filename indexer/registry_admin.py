"""The model registry, write side: registering, promoting and rolling back versions.

The layout is matcher.registry's. Every change a reader could observe is a rename:

- a version is written in full under a hidden temporary name in models/, then renamed to
  its final name, so `vNNNN/` is either absent or complete with its metadata.json;
- the `current` pointer is written to a temporary file and os.replace'd over the old one;
- promotions and rollbacks are appended to models/history.jsonl, which is what makes a
  rollback go back to the version that was current before, several steps if need be.

Promotion is gated: a version becomes current only if its validation top-1 accuracy is not
below the current version's, unless forced. A version that fails verification is never
made current, forced or not.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.head import Head
from matcher.registry import (
    CURRENT,
    METADATA,
    VERSION_NAME,
    ModelError,
    ModelVersion,
    current_version,
    file_digest,
    open_version,
)

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

HISTORY = "history.jsonl"
GATE_METRIC = "acc@1"
_LOCK = ".lock"


@dataclass(frozen=True)
class VersionInfo:
    version: str
    current: bool
    # Empty when the version verified; otherwise why it cannot be loaded.
    problem: str
    metadata: Mapping[str, Any]

    @property
    def metric(self) -> float | None:
        return _metric(self.metadata)


@dataclass(frozen=True)
class Promotion:
    version: str
    promoted: bool
    previous: str | None
    forced: bool
    reason: str


# -- registering -----------------------------------------------------------------------------


def register(
    models_dir: Path,
    encoder: Path | SentenceTransformer,
    head: Head,
    fusion_config: Mapping[str, Any] | None,
    metadata: Mapping[str, Any],
    extra_files: Mapping[str, bytes] | None = None,
    reranker: Path | None = None,
) -> str:
    """Writes a new version and returns its name (v0001, v0002, ...); never makes it current.

    `encoder` is a sentence-transformers model directory (copied) or a loaded model (saved).
    `extra_files` are small files stored beside head.npz and covered by the checksums;
    `reranker` is a reranker export directory (copied).
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = models_dir / f".tmp-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        if isinstance(encoder, Path):
            if not (encoder / "config.json").is_file() and not (encoder / "modules.json").is_file():
                raise ModelError(f"{encoder}: not a sentence-transformers model directory")
            shutil.copytree(encoder, staging / "encoder")
        else:
            encoder.save(str(staging / "encoder"))
        head.save(staging / "head.npz")
        if reranker is not None:
            shutil.copytree(reranker, staging / "reranker")
        if fusion_config is not None:
            _write_json(staging / "fusion.json", fusion_config)
        for relative, content in (extra_files or {}).items():
            target = staging / relative
            if target.name == METADATA or target.parent != staging:
                raise ValueError(f"extra file {relative!r}: must be a plain name, not {METADATA}")
            target.write_bytes(content)
        # Every file and directory on disk before the rename: otherwise a power cut could
        # leave a complete-looking version, even the current one, with empty or torn files
        # (refused by its checksums, but a server would not start on it).
        _fsync_tree(staging)
        files = {
            path.relative_to(staging).as_posix(): file_digest(path)
            for path in sorted(staging.rglob("*"))
            if path.is_file()
        }
        # Two trainings may register at once: a name taken in between makes the rename fail
        # (the target is a non-empty directory), and the next free name is tried.
        for _ in range(100):
            version = _next_version(models_dir)
            meta = {**metadata, "version": version, "files": files}
            _write_json(staging / METADATA, meta)
            _fsync_dir(staging)
            try:
                os.rename(staging, models_dir / version)
            except OSError:
                if (models_dir / version).exists():
                    continue
                raise
            _fsync_dir(models_dir)
            log.info("registered model %s in %s", version, models_dir)
            return version
        raise ModelError(f"{models_dir}: could not find a free version name")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def version_names(models_dir: Path) -> list[str]:
    """Registered version names in order; temporary and unrelated entries are skipped."""
    if not models_dir.is_dir():
        return []
    found = [
        (int(m.group(1)), p.name)
        for p in models_dir.iterdir()
        if p.is_dir() and (m := VERSION_NAME.fullmatch(p.name))
    ]
    return [name for _, name in sorted(found)]


def list_versions(models_dir: Path, verify: bool = True) -> list[VersionInfo]:
    current = current_version(models_dir)
    infos = []
    for name in version_names(models_dir):
        problem = ""
        metadata: Mapping[str, Any] = {}
        if verify:
            try:
                metadata = open_version(models_dir, name).metadata
            except ModelError as exc:
                problem = str(exc)
        if not metadata:
            metadata = _read_metadata(models_dir / name)
        infos.append(VersionInfo(name, name == current, problem, metadata))
    return infos


# -- promoting and rolling back --------------------------------------------------------------


def promote(models_dir: Path, version: str, force: bool = False) -> Promotion:
    """Makes `version` current if it verifies and passes the gate (or `force`).

    Raises ModelError for a version that is missing or corrupt; returns a Promotion with
    promoted=False when the gate refuses.
    """
    with _locked(models_dir):
        candidate = open_version(models_dir, version)
        previous = current_version(models_dir)
        if previous == version:
            return Promotion(version, True, previous, force, f"{version} is already current")
        allowed, reason = gate(models_dir, candidate, previous)
        if not allowed and not force:
            log.warning("promotion of %s refused: %s", version, reason)
            return Promotion(version, False, previous, force, reason)
        if not allowed:
            reason = f"forced: {reason}"
        _set_current(models_dir, version)
        _append_history(models_dir, "promote", version, previous, force, reason)
        log.info("promoted %s (was %s): %s", version, previous, reason)
        return Promotion(version, True, previous, force, reason)


def gate(models_dir: Path, candidate: ModelVersion, current: str | None) -> tuple[bool, str]:
    """Whether `candidate` may replace `current`, and why, on top-1 accuracy over the
    validation texts, cross-fitted: each half graded with calibration and thresholds fitted
    on the other half, so no text is graded by a fit that saw it (indexer.train.GATE_SHARE).

    A candidate trained while `current` was current carries a baseline: the current model
    measured on the candidate's own validation texts, its calibration and thresholds refitted
    per half in the same way, which is the fair comparison. Without one,
    the two versions' stored figures are compared (and the reason says so if they were
    measured on different texts).

    How many gate texts it takes to see a difference: two models compared on the same n
    texts differ in accuracy by (b - c) / n, where b and c count the texts only one of them
    gets right; its standard error is about sqrt(d / n) for a disagreement rate d = (b + c) / n.
    Telling a 1-point difference apart at 95% needs 2 * sqrt(d / n) <= 0.01, so n >= 40,000 d:
    about 2,000 gate texts when the models disagree on 5% of texts, 4,000 at 10%. Below that,
    "not worse" means "not measurably worse".
    """
    if current is None:
        return True, "no current model"
    new = _metric(candidate.metadata)
    if new is None:
        return False, f"{candidate.version} has no validation {GATE_METRIC}"
    baseline = candidate.metadata.get("baseline") or {}
    if baseline.get("version") == current and isinstance(baseline.get(GATE_METRIC), int | float):
        old = float(baseline[GATE_METRIC])
        basis = f"{current} re-measured on the same validation data"
    else:
        old_metadata = _read_metadata(models_dir / current)
        old_value = _metric(old_metadata)
        if old_value is None:
            return True, f"current {current} has no validation {GATE_METRIC}"
        old = old_value
        same = _valid_fingerprint(old_metadata) == _valid_fingerprint(candidate.metadata)
        basis = f"{current}'s stored figure" + ("" if same else ", on different validation data")
    figures = candidate.metadata.get("metrics") or {}
    texts, graded = figures.get("texts"), figures.get("graded")
    on = f" on {texts} validation texts" if isinstance(texts, int) else ""
    on += f", {graded}" if isinstance(graded, str) else ""
    verdict = f"{GATE_METRIC} {new:.4f} vs {old:.4f}{on} ({basis})"
    if new + 1e-9 < old:
        return False, f"worse than current: {verdict}"
    return True, f"not worse than current: {verdict}"


def rollback(models_dir: Path) -> Promotion:
    """Makes the version that was current before the current one current again.

    Versions that no longer verify are skipped (and named in the reason); ModelError if
    there is nothing to go back to.
    """
    with _locked(models_dir):
        current = current_version(models_dir)
        stack = promotion_stack(models_dir)
        if current is not None and (not stack or stack[-1] != current):
            # The pointer was changed by hand: go back from what is actually current.
            stack.append(current)
        if stack:
            stack.pop()
        skipped = []
        while stack:
            target = stack[-1]
            try:
                open_version(models_dir, target)
            except ModelError as exc:
                skipped.append(str(exc))
                stack.pop()
                continue
            reason = f"rolled back from {current} to {target}"
            if skipped:
                reason += "; skipped: " + "; ".join(skipped)
            _set_current(models_dir, target)
            _append_history(models_dir, "rollback", target, current, False, reason)
            log.info("%s", reason)
            return Promotion(target, True, current, False, reason)
        detail = f" (skipped: {'; '.join(skipped)})" if skipped else ""
        raise ModelError(f"no earlier version to roll back to from {current}{detail}")


def promotion_stack(models_dir: Path) -> list[str]:
    """The versions that were made current, oldest first, with rolled-back ones removed."""
    stack: list[str] = []
    for entry in read_history(models_dir):
        if entry.get("action") == "promote":
            stack.append(str(entry["version"]))
        elif entry.get("action") == "rollback":
            while stack and stack[-1] != entry["version"]:
                stack.pop()
            if not stack:
                stack.append(str(entry["version"]))
    return stack


def read_history(models_dir: Path) -> list[dict[str, Any]]:
    path = models_dir / HISTORY
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            # A torn last line (crash mid-append) must not block every later rollback.
            log.warning("%s:%d: unreadable history entry skipped", path, number)
    return entries


# -- helpers ---------------------------------------------------------------------------------


def _metric(metadata: Mapping[str, Any]) -> float | None:
    value = (metadata.get("metrics") or {}).get(GATE_METRIC)
    return float(value) if isinstance(value, int | float) else None


def _valid_fingerprint(metadata: Mapping[str, Any]) -> str | None:
    value = (metadata.get("data") or {}).get("valid_fingerprint")
    return str(value) if value else None


def _read_metadata(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads((path / METADATA).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _next_version(models_dir: Path) -> str:
    numbers = [int(name[1:]) for name in version_names(models_dir)]
    return f"v{max(numbers, default=0) + 1:04d}"


def _set_current(models_dir: Path, version: str) -> None:
    tmp = models_dir / f".{CURRENT}.{uuid.uuid4().hex}"
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(version + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, models_dir / CURRENT)
    _fsync_dir(models_dir)


def _append_history(
    models_dir: Path, action: str, version: str, previous: str | None, forced: bool, reason: str
) -> None:
    entry = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "action": action,
        "version": version,
        "previous": previous,
        "forced": forced,
        "reason": reason,
    }
    with (models_dir / HISTORY).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _write_json(path: Path, content: Mapping[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_dir():
            _fsync_dir(path)
        elif path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(models_dir: Path) -> Iterator[None]:
    """Serialises pointer changes across processes (a CLI promote against a training job)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    with (models_dir / _LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
