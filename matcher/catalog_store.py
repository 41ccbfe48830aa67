"""The durable catalog and labelled history: SQLite (WAL) behind a small interface.

The catalog store is the source of truth the server loads at start and writes on every
catalog call; each call is one transaction, so a failed call changes nothing.

It owns the tables `parts`, `examples` and `feedback`, and every write of a labelled example:
its own (an import, storefront feedback), and the review queue's, which `insert_example` and
`require_active` make inside the queue's transaction on the same file, so that a resolution
and its example commit together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from matcher.catalog import CatalogError, Part, part_from_dict
from matcher.examples import Example
from matcher.sqlite_file import connect, transaction


class UnknownSkus(KeyError):
    def __init__(self, skus: Sequence[str]) -> None:
        super().__init__(skus)
        self.skus = list(skus)

    def __str__(self) -> str:
        return f"unknown sku(s): {', '.join(self.skus)}"


class CatalogStore(Protocol):
    def replace_all(self, parts: Sequence[Part], examples: Sequence[Example]) -> None: ...
    def upsert(self, parts: Sequence[Part]) -> None: ...
    def retire(self, skus: Sequence[str]) -> None: ...
    def get(self, sku: str) -> Part | None: ...
    def page(self, size: int, after: str = "", include_retired: bool = False) -> list[Part]: ...
    def parts(self, include_retired: bool = False) -> list[Part]: ...
    def examples(self) -> list[Example]: ...
    def add_examples(self, examples: Sequence[Example], source: str) -> None: ...
    def record_feedback(self, text: str, sku: str, request_id: str = "") -> bool: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS parts (
    sku TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    active INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS examples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    sku TEXT,
    source TEXT NOT NULL,
    created_at REAL NOT NULL
);
-- Storefront reports already turned into examples: a retried report is not counted twice.
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    sku TEXT NOT NULL,
    request_id TEXT NOT NULL,
    example_id INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_request ON feedback (request_id);
"""
# Every labelled example, whoever writes it, has these columns: training reads them alike.
_INSERT_EXAMPLE = "INSERT INTO examples (text, sku, source, created_at) VALUES (?, ?, ?, ?)"


class SqliteCatalogStore:
    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        self.path = path
        # One connection shared under a lock: writes are rare and short, and SQLite
        # serialises writers anyway. FULL by default: an acknowledged catalog change
        # survives a power cut (Settings.sqlite_synchronous).
        self._db = connect(path, synchronous)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db, self._lock)

    def replace_all(self, parts: Sequence[Part], examples: Sequence[Example]) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM parts")
            db.execute("DELETE FROM examples")
            self._write_parts(db, parts)
            self._write_examples(db, examples, "import")

    def upsert(self, parts: Sequence[Part]) -> None:
        with self._transaction() as db:
            self._write_parts(db, parts)

    def retire(self, skus: Sequence[str]) -> None:
        with self._transaction() as db:
            unknown = [s for s in skus if self._read(db, s) is None]
            if unknown:
                raise UnknownSkus(unknown)
            for sku in skus:
                part = self._read(db, sku)
                assert part is not None
                retired = Part(**{**part.__dict__, "active": False})
                self._write_parts(db, [retired])

    def get(self, sku: str) -> Part | None:
        with self._lock:
            return self._read(self._db, sku)

    def page(self, size: int, after: str = "", include_retired: bool = False) -> list[Part]:
        sql = "SELECT data FROM parts WHERE sku > ?"
        if not include_retired:
            sql += " AND active = 1"
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY sku LIMIT ?", (after, size)).fetchall()
        return [_decode(row[0]) for row in rows]

    def parts(self, include_retired: bool = False) -> list[Part]:
        sql = "SELECT data FROM parts" + ("" if include_retired else " WHERE active = 1")
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY sku").fetchall()
        return [_decode(row[0]) for row in rows]

    def examples(self) -> list[Example]:
        with self._lock:
            rows = self._db.execute("SELECT text, sku FROM examples ORDER BY id").fetchall()
        return [Example(text, sku) for text, sku in rows]

    def add_examples(self, examples: Sequence[Example], source: str) -> None:
        with self._transaction() as db:
            self._write_examples(db, examples, source)

    def record_feedback(self, text: str, sku: str, request_id: str = "") -> bool:
        """Record a confirmed mapping as a labelled example (source "feedback").

        False when the same report (request_id, text, sku) was already recorded: storefronts
        retry, and a duplicate would count one purchase twice in training. The text is the
        caller's to check (FeedbackServicer, against the limits); an unknown or retired SKU is
        refused here with CatalogError, in the transaction that writes the example.
        """
        with self._transaction() as db:
            require_active(db, sku, "sku")
            if request_id:
                duplicate = db.execute(
                    "SELECT 1 FROM feedback WHERE request_id = ? AND text = ? AND sku = ?",
                    (request_id, text, sku),
                ).fetchone()
                if duplicate:
                    return False
            example_id = insert_example(db, text, sku, "feedback")
            db.execute(
                "INSERT INTO feedback (text, sku, request_id, example_id, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (text, sku, request_id, example_id, time.time()),
            )
            return True

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @staticmethod
    def _read(db: sqlite3.Connection, sku: str) -> Part | None:
        row = db.execute("SELECT data FROM parts WHERE sku = ?", (sku,)).fetchone()
        return None if row is None else _decode(row[0])

    @staticmethod
    def _write_parts(db: sqlite3.Connection, parts: Sequence[Part]) -> None:
        now = time.time()
        db.executemany(
            "INSERT INTO parts (sku, data, active, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(sku) DO UPDATE SET data = excluded.data, active = excluded.active, "
            "updated_at = excluded.updated_at",
            [(p.sku, json.dumps(p.to_dict(), sort_keys=True), int(p.active), now) for p in parts],
        )

    @staticmethod
    def _write_examples(db: sqlite3.Connection, examples: Sequence[Example], source: str) -> None:
        now = time.time()
        db.executemany(_INSERT_EXAMPLE, [(e.text, e.sku, source, now) for e in examples])


def require_active(db: sqlite3.Connection, sku: str, field_name: str) -> None:
    """Refuse (CatalogError naming `field_name`) a label for a SKU that is not an active part.

    Run inside the transaction that writes the label: read under the same write lock, a part
    retired a moment ago cannot slip in as a label.
    """
    row = db.execute("SELECT active FROM parts WHERE sku = ?", (sku,)).fetchone()
    if row is None:
        raise CatalogError(f"{field_name}: unknown sku {sku!r}")
    if not row[0]:
        raise CatalogError(f"{field_name}: sku {sku!r} is retired")


def insert_example(db: sqlite3.Connection, text: str, sku: str | None, source: str) -> int:
    """Write one labelled example inside the caller's transaction; returns its id."""
    cursor = db.execute(_INSERT_EXAMPLE, (text, sku, source, time.time()))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _decode(data: str) -> Part:
    return part_from_dict(json.loads(data), "catalog store")
