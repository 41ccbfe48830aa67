"""PARTMATCH_SQLITE_SYNCHRONOUS is the `synchronous` in effect on every connection that writes.

SQLite keeps `synchronous` per connection, not in the file, so each place that opens the
store must pass the setting; one that forgot would silently run at SQLite's default. These
tests read the PRAGMA back from the live connections: of the stores directly, and of the
stores that `partmatch index`, `partmatch train` and `partmatch match` open, each run for real
with the setting from the environment.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.build import index_dataset
from indexer.train import load_training_data
from matcher import catalog_store, review_queue, sqlite_file
from matcher.catalog_store import SqliteCatalogStore
from matcher.config import ConfigError, Settings
from matcher.review_queue import SqliteReviewQueue
from tests.conftest import tiny_catalog
from tests.test_training import make_splits, write_data

# What `PRAGMA synchronous` reads back as.
LEVELS = {"NORMAL": 1, "FULL": 2}


def in_effect(db: sqlite3.Connection) -> int:
    row = db.execute("PRAGMA synchronous").fetchone()
    return int(row[0])


@pytest.mark.parametrize("value", ["NORMAL", "FULL"])
def test_both_stores_run_at_the_setting(tmp_path: Path, value: str) -> None:
    path = tmp_path / "catalog.db"
    catalog = SqliteCatalogStore(path, value)
    reviews = SqliteReviewQueue(path, synchronous=value)
    try:
        assert in_effect(catalog._db) == LEVELS[value]
        assert in_effect(reviews._db) == LEVELS[value]
        # WAL, so that NORMAL loses at most the last commits to a power cut, never the file.
        assert catalog._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        reviews.close()
        catalog.close()


def test_full_is_the_default_and_nothing_else_is_accepted(tmp_path: Path) -> None:
    assert Settings().sqlite_synchronous == "FULL"
    store = SqliteCatalogStore(tmp_path / "catalog.db")
    try:
        assert in_effect(store._db) == LEVELS["FULL"]
    finally:
        store.close()
    with pytest.raises(ConfigError, match="PARTMATCH_SQLITE_SYNCHRONOUS"):
        Settings.from_env({"PARTMATCH_SQLITE_SYNCHRONOUS": "OFF"})
    with pytest.raises(ValueError, match="synchronous"):
        sqlite_file.connect(tmp_path / "other.db", "OFF")


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The `synchronous` in effect on each store connection opened meanwhile, read from the
    real connection the store goes on to use."""
    seen: list[int] = []
    real = sqlite_file.connect

    def connect(path: Path, synchronous: str = "FULL") -> sqlite3.Connection:
        db = real(path, synchronous)
        seen.append(in_effect(db))
        return db

    monkeypatch.setattr(catalog_store, "connect", connect)
    monkeypatch.setattr(review_queue, "connect", connect)
    yield seen


@pytest.mark.slow
@pytest.mark.parametrize("value", ["NORMAL", "FULL"])
def test_index_train_and_match_open_the_store_at_the_setting(
    tmp_path: Path, value: str, opened: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.main import main

    monkeypatch.setenv("PARTMATCH_SQLITE_SYNCHRONOUS", value)
    splits = make_splits()
    data = write_data(tmp_path / "data", tiny_catalog(), {"history": splits["history"][:12]})
    state = tmp_path / "state"
    settings = Settings.from_env(state_dir=state)
    assert settings.sqlite_synchronous == value

    index_dataset(settings, data, progress=False)  # `partmatch index`
    assert opened and set(opened) == {LEVELS[value]}, opened
    opened.clear()
    load_training_data(settings, None, seed=0)  # `partmatch train` without --data
    assert opened and set(opened) == {LEVELS[value]}, opened
    opened.clear()
    assert main(["match", "front brake pads", "--state", str(state)]) == 0  # in process
    assert opened and set(opened) == {LEVELS[value]}, opened
