"""The registry's write side: complete versions only, the promotion gate, rollback, the CLI."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from cli.main import main
from indexer.registry_admin import (
    HISTORY,
    list_versions,
    promote,
    promotion_stack,
    register,
    rollback,
)
from matcher.head import Head
from matcher.registry import (
    CURRENT,
    METADATA,
    ModelError,
    current_version,
    file_digest,
    open_version,
)


@pytest.fixture
def encoder_dir(tmp_path: Path) -> Path:
    """A stand-in encoder directory: the registry checksums files, it never loads them."""
    path = tmp_path / "encoder-src"
    (path / "1_Pooling").mkdir(parents=True)
    (path / "modules.json").write_text('[{"idx": 0, "name": "0", "path": ""}]')
    (path / "config.json").write_text('{"hidden_size": 4}')
    (path / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    (path / "model.safetensors").write_bytes(bytes(range(256)) * 64)
    return path


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "state" / "models"


def a_head(seed: int = 0) -> Head:
    rng = np.random.default_rng(seed)
    return Head(
        classes=np.asarray(["", "A", "B"]),
        coef=rng.normal(size=(3, 4)).astype(np.float32),
        intercept=np.zeros(3, dtype=np.float32),
    )


def add(models_dir: Path, encoder_dir: Path, acc: float, **metadata: object) -> str:
    return register(
        models_dir,
        encoder_dir,
        a_head(),
        {"fusion": {"note": "stand-in"}},
        {"metrics": {"acc@1": acc}, **metadata},
    )


def flip_byte(path: Path, offset: int = 100) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0xFF
    path.write_bytes(bytes(data))


def test_register_writes_a_complete_verified_version(models_dir: Path, encoder_dir: Path) -> None:
    version = add(models_dir, encoder_dir, 0.8, parent=None)
    assert version == "v0001"
    model = open_version(models_dir, version)
    files = model.metadata["files"]
    on_disk = {
        p.relative_to(model.path).as_posix()
        for p in model.path.rglob("*")
        if p.is_file() and p.name != METADATA
    }
    assert set(files) == on_disk
    assert "encoder/1_Pooling/config.json" in files and "head.npz" in files
    assert all(file_digest(model.path / f) == digest for f, digest in files.items())
    assert model.metadata["version"] == version
    assert json.loads(model.fusion_path.read_text())["fusion"]["note"] == "stand-in"
    # Registering never promotes, and leaves no temporary directory behind.
    assert current_version(models_dir) is None
    assert [p.name for p in models_dir.iterdir()] == ["v0001"]


def test_versions_are_numbered_and_listed(models_dir: Path, encoder_dir: Path) -> None:
    names = [add(models_dir, encoder_dir, acc) for acc in (0.5, 0.6, 0.7)]
    assert names == ["v0001", "v0002", "v0003"]
    promote(models_dir, "v0002")
    flip_byte(models_dir / "v0003" / "head.npz")
    listed = {v.version: v for v in list_versions(models_dir)}
    assert [v for v, info in listed.items() if info.current] == ["v0002"]
    assert listed["v0001"].metric == 0.5 and not listed["v0001"].problem
    assert "checksum mismatch" in listed["v0003"].problem


def test_a_failed_registration_leaves_nothing(models_dir: Path, encoder_dir: Path) -> None:
    with pytest.raises(ModelError):
        register(models_dir, encoder_dir / "missing", a_head(), None, {})
    # Fails after the encoder and head are written: still nothing under a version name.
    with pytest.raises(ValueError):
        register(models_dir, encoder_dir, a_head(), None, {}, extra_files={METADATA: b"{}"})
    assert list(models_dir.iterdir()) == []
    assert add(models_dir, encoder_dir, 0.5) == "v0001"


def test_gate_refuses_a_worse_model_unless_forced(models_dir: Path, encoder_dir: Path) -> None:
    v1, v2, v3 = (add(models_dir, encoder_dir, acc) for acc in (0.80, 0.70, 0.75))
    assert promote(models_dir, v1).promoted
    refused = promote(models_dir, v2)
    assert not refused.promoted and "worse" in refused.reason
    assert current_version(models_dir) == v1
    assert promotion_stack(models_dir) == [v1]

    forced = promote(models_dir, v2, force=True)
    assert forced.promoted and forced.reason.startswith("forced")
    assert current_version(models_dir) == v2
    # Not worse than the (forced) current one: promoted without force.
    assert promote(models_dir, v3).promoted
    entries = [json.loads(line) for line in (models_dir / HISTORY).read_text().splitlines()]
    assert [(e["version"], e["forced"]) for e in entries] == [(v1, False), (v2, True), (v3, False)]


def test_gate_prefers_the_baseline_measured_on_the_same_data(
    models_dir: Path, encoder_dir: Path
) -> None:
    v1 = add(models_dir, encoder_dir, 0.90)
    promote(models_dir, v1)
    # v1 scored 0.90 on its own validation data but only 0.80 on v2's; v2 reaches 0.85.
    v2 = add(models_dir, encoder_dir, 0.85, baseline={"version": v1, "acc@1": 0.80})
    result = promote(models_dir, v2)
    assert result.promoted and "same validation data" in result.reason
    # A baseline of another version does not count: v2's stored 0.85 is the reference.
    v3 = add(models_dir, encoder_dir, 0.84, baseline={"version": v1, "acc@1": 0.10})
    assert not promote(models_dir, v3).promoted


def test_rollback_walks_back_through_promotions(models_dir: Path, encoder_dir: Path) -> None:
    v1, v2, v3 = (add(models_dir, encoder_dir, acc) for acc in (0.7, 0.8, 0.9))
    for version in (v1, v2, v3):
        assert promote(models_dir, version).promoted
    assert rollback(models_dir).version == v2
    assert current_version(models_dir) == v2
    assert rollback(models_dir).version == v1
    with pytest.raises(ModelError, match="no earlier version"):
        rollback(models_dir)
    assert current_version(models_dir) == v1
    promote(models_dir, v3)
    assert rollback(models_dir).version == v1


def test_rollback_skips_a_version_that_no_longer_verifies(
    models_dir: Path, encoder_dir: Path
) -> None:
    v1, v2, v3 = (add(models_dir, encoder_dir, acc) for acc in (0.7, 0.8, 0.9))
    for version in (v1, v2, v3):
        promote(models_dir, version)
    flip_byte(models_dir / v2 / "head.npz")
    result = rollback(models_dir)
    assert result.version == v1 and v2 in result.reason
    assert current_version(models_dir) == v1


@pytest.mark.parametrize("damage", ["flip a byte in head.npz", "delete metadata.json"])
def test_a_damaged_version_is_never_promoted(
    models_dir: Path, encoder_dir: Path, damage: str
) -> None:
    v1, v2 = add(models_dir, encoder_dir, 0.5), add(models_dir, encoder_dir, 0.9)
    promote(models_dir, v1)
    if damage.startswith("flip"):
        flip_byte(models_dir / v2 / "head.npz")
    else:
        (models_dir / v2 / METADATA).unlink()
    with pytest.raises(ModelError, match=v2):
        promote(models_dir, v2, force=True)
    assert current_version(models_dir) == v1


def test_readers_never_see_a_partial_current_pointer(models_dir: Path, encoder_dir: Path) -> None:
    v1, v2 = add(models_dir, encoder_dir, 0.5), add(models_dir, encoder_dir, 0.5)
    promote(models_dir, v1)
    seen: set[str | None] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(current_version(models_dir))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(60):
            promote(models_dir, v2 if i % 2 == 0 else v1, force=True)
    finally:
        stop.set()
        reader.join()
    assert seen <= {v1, v2}
    assert not [p for p in models_dir.iterdir() if p.name.startswith(f".{CURRENT}")]


def test_models_cli(
    models_dir: Path, encoder_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(models_dir.parent)
    v1, v2 = add(models_dir, encoder_dir, 0.8), add(models_dir, encoder_dir, 0.6)
    assert main(["models", "promote", v1, "--state", state]) == 0
    assert main(["models", "promote", v2, "--state", state]) == 3
    assert "refused" in capsys.readouterr().out
    assert main(["models", "promote", v2, "--force", "--state", state]) == 0
    assert main(["models", "list", "--state", state]) == 0
    listing = capsys.readouterr().out
    assert f"* {v2}" in listing and f"  {v1}" in listing
    assert main(["models", "rollback", "--state", state]) == 0
    assert current_version(models_dir) == v1
    assert main(["models", "promote", "v0042", "--state", state]) == 1
