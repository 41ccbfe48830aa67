"""The review queue: answers a person should check, and what they decided.

It lives in the catalog store's SQLite file (table `reviews`) so that resolving an item, the
check that its SKU is an active part, and writing the labelled example that training reads
(the catalog store's `examples`, source "review") are one transaction: a crash or a refusal
never leaves a resolved item without its example, nor an example for a part that was retired
meanwhile. Which item comes first is the priority policy's (matcher/review_priority.py).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from matcher import review_priority
from matcher.attributes.marks import Mark
from matcher.catalog_store import SqliteCatalogStore, insert_example, require_active
from matcher.engine import Candidate
from matcher.limits import DEFAULT_LIMITS, Limits, bad_text_character, describe, shortened
from matcher.page_token import BadPageToken, queue_position, queue_token
from matcher.query import fold, words
from matcher.sqlite_file import connect, transaction

PENDING = "PENDING"
RESOLVED = "RESOLVED"
MAX_REVIEWER_CHARS = 200


class ReviewInputError(ValueError):
    """A request the queue refuses as malformed; the message names the field."""


class ReviewNotFound(KeyError):
    def __init__(self, review_id: str) -> None:
        super().__init__(review_id)
        self.review_id = review_id

    def __str__(self) -> str:
        return f"no review item with id {shortened(self.review_id)!r}"


class ReviewConflict(RuntimeError):
    """The item was already resolved differently; see SqliteReviewQueue.resolve."""


@dataclass(frozen=True)
class ReviewItem:
    id: str
    text: str
    vehicle: str
    candidates: list[Candidate]
    status: str
    created_at: float
    priority: float
    request_id: str
    model_version: str
    # How many times the same (normalised) text came in while the item was pending.
    seen: int = 1
    resolved_sku: str | None = None
    names_no_part: bool = False
    reviewer: str = ""
    resolved_at: float = 0.0

    @property
    def pending(self) -> bool:
        return self.status == PENDING


@dataclass(frozen=True)
class ReviewPage:
    items: list[ReviewItem]
    next_page_token: str
    # Pending items that pass the filters, on all pages.
    total: int = 0


@dataclass(frozen=True)
class Queued:
    """An answer to put before a person."""

    text: str
    vehicle: str
    candidates: Sequence[Candidate]
    request_id: str
    model_version: str
    priority: float | None = None


class ReviewQueue(Protocol):
    def enqueue(
        self,
        text: str,
        vehicle: str,
        candidates: Sequence[Candidate],
        request_id: str,
        model_version: str,
        priority: float | None = None,
    ) -> str: ...

    def enqueue_many(self, items: Sequence[Queued]) -> list[str]:
        """All of them in one transaction, or none."""

    def list_pending(
        self,
        page_size: int,
        page_token: str = "",
        candidate_sku: str = "",
        text_contains: str = "",
    ) -> ReviewPage: ...

    def get(self, review_id: str) -> ReviewItem: ...

    def resolve(self, review_id: str, sku: str | None, reviewer: str) -> ReviewItem: ...


def normalise(text: str) -> str:
    """The text as the queue compares it: case, accents, spacing and punctuation ignored."""
    return " ".join(words(text)) or fold(text)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    norm_text TEXT NOT NULL,
    vehicle TEXT NOT NULL,
    candidates TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    base_priority REAL NOT NULL,
    seen INTEGER NOT NULL,
    priority REAL NOT NULL,
    request_id TEXT NOT NULL,
    model_version TEXT NOT NULL,
    resolved_sku TEXT,
    names_no_part INTEGER NOT NULL DEFAULT 0,
    reviewer TEXT NOT NULL DEFAULT '',
    resolved_at REAL NOT NULL DEFAULT 0,
    example_id INTEGER
);
-- At most one pending item per text: a repeat bumps the pending one instead.
CREATE UNIQUE INDEX IF NOT EXISTS reviews_pending_text ON reviews (norm_text)
    WHERE status = 'PENDING';
CREATE INDEX IF NOT EXISTS reviews_queue ON reviews (status, priority DESC, created_at, id);
"""


class SqliteReviewQueue:
    """The review queue in the catalog store's SQLite file, on a connection of its own.

    SQLite serialises writers across connections (and processes), so this queue and the
    catalog store may write concurrently; each transaction here is BEGIN IMMEDIATE, so it
    reads the parts it checks under the same write lock that commits its changes.
    """

    def __init__(
        self, path: Path, limits: Limits = DEFAULT_LIMITS, synchronous: str = "FULL"
    ) -> None:
        # The catalog store creates (and owns the schema of) `parts` and `examples`.
        SqliteCatalogStore(path, synchronous).close()
        self.path = path
        self.limits = limits
        # FULL by default: a resolved item is a person's work; it must survive a power cut.
        self._db = connect(path, synchronous)
        self._db.executescript(_SCHEMA)
        # SQLite's lower() folds ASCII only; the filter must also find "Bremsbeläge".
        self._db.create_function("casefold", 1, fold, deterministic=True)
        self._lock = threading.Lock()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db, self._lock)

    def enqueue(
        self,
        text: str,
        vehicle: str,
        candidates: Sequence[Candidate],
        request_id: str,
        model_version: str,
        priority: float | None = None,
    ) -> str:
        """The id of the pending item for this text: a new one, or the one already waiting
        (whose count and priority go up; its first answer is kept as what was shown)."""
        item = Queued(text, vehicle, candidates, request_id, model_version, priority)
        return self.enqueue_many([item])[0]

    def enqueue_many(self, items: Sequence[Queued]) -> list[str]:
        """`enqueue` for each item, all in one transaction: a batch is queued whole or not."""
        for index, item in enumerate(items):
            _check_text(item.text, self.limits, f"items[{index}]: " if len(items) > 1 else "")
        with self._transaction() as db:
            return [self._enqueue(db, item) for item in items]

    def _enqueue(self, db: sqlite3.Connection, item: Queued) -> str:
        base = review_priority.base_priority(item.candidates, item.priority)
        norm = normalise(item.text)
        row = db.execute(
            "SELECT id, seen, base_priority FROM reviews "
            "WHERE norm_text = ? AND status = 'PENDING'",
            (norm,),
        ).fetchone()
        if row is not None:
            review_id, seen, first_base = row
            seen += 1
            best = review_priority.repeated_base(first_base, base)
            db.execute(
                "UPDATE reviews SET seen = ?, base_priority = ?, priority = ? WHERE id = ?",
                (seen, best, review_priority.priority(best, seen), review_id),
            )
            return str(review_id)
        review_id = uuid.uuid4().hex
        db.execute(
            "INSERT INTO reviews (id, text, norm_text, vehicle, candidates, status, "
            "created_at, base_priority, seen, priority, request_id, model_version) "
            "VALUES (?, ?, ?, ?, ?, 'PENDING', ?, ?, 1, ?, ?, ?)",
            (
                review_id,
                item.text,
                norm,
                item.vehicle,
                _encode_candidates(item.candidates),
                time.time(),
                base,
                review_priority.priority(base, 1),
                item.request_id,
                item.model_version,
            ),
        )
        return review_id

    def list_pending(
        self,
        page_size: int,
        page_token: str = "",
        candidate_sku: str = "",
        text_contains: str = "",
    ) -> ReviewPage:
        """Pending items, highest priority first, then oldest first.

        Keyset pagination: a page token is the sort key of the last item shown, so items
        resolved meanwhile never shift later pages. An item whose priority rises (a repeat)
        after its page was read may move above the cursor; it is then shown on the next
        listing from the top, where it belongs.
        """
        if page_size < 1:
            raise ReviewInputError(f"page_size must be at least 1, got {page_size}")
        where = ["status = 'PENDING'"]
        args: list[Any] = []
        if candidate_sku:
            where.append(
                "EXISTS (SELECT 1 FROM json_each(reviews.candidates) "
                "WHERE json_extract(value, '$.sku') = ?)"
            )
            args.append(candidate_sku)
        if text_contains:
            where.append("instr(casefold(text), ?) > 0")
            args.append(fold(text_contains))
        filters = " AND ".join(where)
        page_where = filters
        page_args = list(args)
        if page_token:
            try:
                priority, created_at, last_id = queue_position(page_token)
            except BadPageToken as exc:
                raise ReviewInputError(str(exc)) from None
            page_where += (
                " AND (priority < ? OR (priority = ? AND (created_at > ? "
                "OR (created_at = ? AND id > ?))))"
            )
            page_args += [priority, priority, created_at, created_at, last_id]
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM reviews WHERE {page_where} "
                "ORDER BY priority DESC, created_at, id LIMIT ?",
                (*page_args, page_size + 1),
            ).fetchall()
            total = self._db.execute(
                f"SELECT count(*) FROM reviews WHERE {filters}", args
            ).fetchone()[0]
        items = [_item(row) for row in rows[:page_size]]
        token = ""
        if len(rows) > page_size:
            last = items[-1]
            token = queue_token(last.priority, last.created_at, last.id)
        return ReviewPage(items, token, int(total))

    def get(self, review_id: str) -> ReviewItem:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM reviews WHERE id = ?", (review_id,)
            ).fetchone()
        if row is None:
            raise ReviewNotFound(review_id)
        return _item(row)

    def resolve(self, review_id: str, sku: str | None, reviewer: str) -> ReviewItem:
        """Resolve with an active SKU, or None for "names no part".

        Resolving again the same way returns the item unchanged (no second example), so a
        retried call is harmless. Resolving a resolved item differently is refused with
        ReviewConflict rather than applied as a correction: the API carries no version or
        "I know it was X" field, so a correction could not be told apart from two
        reviewers racing on one item, and the later click would silently erase the earlier
        person's judgement. A SKU that is unknown or retired is refused with CatalogError.
        """
        if not reviewer.strip():
            raise ReviewInputError("reviewer must not be empty")
        if len(reviewer) > MAX_REVIEWER_CHARS:
            raise ReviewInputError(f"reviewer is over {MAX_REVIEWER_CHARS} characters")
        bad = bad_text_character(reviewer)
        if bad is not None:  # a name shown in the console: no controls, no reordering
            raise ReviewInputError(f"reviewer holds the control character {describe(bad)}")
        if sku is not None and not sku:
            raise ReviewInputError("sku must not be empty; use None for names_no_part")
        # One transaction for the check, the example and the resolution (see the docstring
        # of this module): the catalog store's writes run on this connection, inside it.
        with self._transaction() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM reviews WHERE id = ?", (review_id,)
            ).fetchone()
            if row is None:
                raise ReviewNotFound(review_id)
            item = _item(row)
            if not item.pending:
                if item.resolved_sku == sku and item.names_no_part == (sku is None):
                    return item
                raise ReviewConflict(
                    f"review {review_id} was already resolved as {_describe(item.resolved_sku)} "
                    f"by {item.reviewer}; it cannot be resolved as {_describe(sku)}"
                )
            if sku is not None:
                require_active(db, sku, "sku")
            example_id = insert_example(db, item.text, sku, "review")
            now = time.time()
            db.execute(
                "UPDATE reviews SET status = 'RESOLVED', resolved_sku = ?, names_no_part = ?, "
                "reviewer = ?, resolved_at = ?, example_id = ? WHERE id = ?",
                (sku, int(sku is None), reviewer.strip(), now, example_id, review_id),
            )
            row = db.execute(
                f"SELECT {_COLUMNS} FROM reviews WHERE id = ?", (review_id,)
            ).fetchone()
            return _item(row)

    def close(self) -> None:
        with self._lock:
            self._db.close()


_COLUMNS = (
    "id, text, vehicle, candidates, status, created_at, priority, request_id, model_version, "
    "seen, resolved_sku, names_no_part, reviewer, resolved_at"
)


def _item(row: Sequence[Any]) -> ReviewItem:
    return ReviewItem(
        id=row[0],
        text=row[1],
        vehicle=row[2],
        candidates=_decode_candidates(row[3]),
        status=row[4],
        created_at=row[5],
        priority=row[6],
        request_id=row[7],
        model_version=row[8],
        seen=row[9],
        resolved_sku=row[10],
        names_no_part=bool(row[11]),
        reviewer=row[12],
        resolved_at=row[13],
    )


def _check_text(text: str, limits: Limits, where: str = "") -> None:
    # A backstop: Match has checked the text already, but the queue is also filled directly.
    if not text or not text.strip():
        raise ReviewInputError(f"{where}text must not be empty or whitespace only")
    if len(text) > limits.max_text_chars:
        raise ReviewInputError(
            f"{where}text is {len(text)} characters; the limit is {limits.max_text_chars}"
        )
    bad = bad_text_character(text, allow_newlines=True)
    if bad is not None:
        raise ReviewInputError(f"{where}text holds the control character {describe(bad)}")


def _describe(sku: str | None) -> str:
    return "names no part" if sku is None else repr(sku)


def _encode_candidates(candidates: Sequence[Candidate]) -> str:
    return json.dumps(
        [
            {
                "sku": c.sku,
                "name": c.name,
                "confidence": c.confidence,
                "signals": dict(c.signals),
                "features": dict(c.features),
                "marks": [_encode_mark(m) for m in c.marks],
            }
            for c in candidates
        ]
    )


def _encode_mark(mark: Mark) -> dict[str, Any]:
    # The explanation is derived from these, so it is not stored: rewording it later
    # rewords the queued items too.
    return {
        "attribute": mark.attribute,
        "stated": mark.stated,
        "value": mark.value,
        "agrees": mark.agrees,
    }


def _decode_mark(raw: dict[str, Any]) -> Mark:
    return Mark(
        attribute=raw["attribute"], stated=raw["stated"], value=raw["value"], agrees=raw["agrees"]
    )


def _decode_candidates(raw: str) -> list[Candidate]:
    return [
        Candidate(
            sku=c["sku"],
            name=c["name"],
            confidence=c["confidence"],
            signals=c.get("signals", {}),
            features=c.get("features", {}),
            # Items queued before candidates had marks have none.
            marks=tuple(_decode_mark(m) for m in c.get("marks", [])),
        )
        for c in json.loads(raw)
    ]
