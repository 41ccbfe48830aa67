"""The durable catalog and labelled history: SQLite (WAL) behind a small interface.

The catalog store is the source of truth the server loads at start and writes on every
catalog call; each call is one transaction, so a failed call changes nothing.
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

from matcher.catalog import Part, part_from_dict
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
"""


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
        db.executemany(
            "INSERT INTO examples (text, sku, source, created_at) VALUES (?, ?, ?, ?)",
            [(e.text, e.sku, source, now) for e in examples],
        )


def _decode(data: str) -> Part:
    return part_from_dict(json.loads(data), "catalog store")
