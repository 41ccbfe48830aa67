"""The SQLite conventions the stores share: WAL, autocommit off, explicit write transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def connect(path: Path, synchronous: str = "FULL") -> sqlite3.Connection:
    """A connection shared by a store's threads under the store's lock. WAL lets readers in
    other processes (the console, a trainer) read while the server writes. `synchronous`:
    FULL syncs every commit to disk; NORMAL, in WAL mode, may lose the last commits to a power
    cut (never to a process crash) and never corrupts the file."""
    if synchronous not in ("NORMAL", "FULL"):
        raise ValueError(f"synchronous must be NORMAL or FULL, got {synchronous!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    return db


@contextmanager
def transaction(db: sqlite3.Connection, lock: threading.Lock) -> Iterator[sqlite3.Connection]:
    """One write transaction: BEGIN IMMEDIATE takes SQLite's write lock at once, so what it
    reads and checks cannot change before it commits; any exception rolls everything back."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
