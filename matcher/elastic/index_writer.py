"""The one owner of the lexical indexes: it builds, updates, swaps and drops them.

Indexes. `{prefix}-parts` and `{prefix}-history` are aliases; each points at one concrete index
`{prefix}-parts-{timestamp}` / `{prefix}-history-{timestamp}`. A full (re)build creates new
indexes, bulk-loads them, refreshes them, swaps both aliases in one atomic `_aliases` call,
waits out in-flight searches and drops the old indexes: searches never see a missing or
half-loaded index. A prefix belongs to one writer: the server's is `PARTMATCH_ES_INDEX_PREFIX`;
offline runs (train, eval) take a prefix of their own (indexer/offline.py).

Refresh policy. A rebuild refreshes explicitly before the swap. Upsert and retire use
`refresh=wait_for`, so they return once their change is searchable: the engine's "retire hides
at once" holds without forcing a refresh per document.

Faults. Writes never raise for an unavailable node: the writer keeps the catalog and history it
was given, marks the indexes stale and logs. The next write that reaches the node rebuilds both
indexes from what it holds; a search that finds the indexes stale or missing (e.g. a node that
came back empty) asks for the same rebuild in the background (`schedule_resync`: at most one at
a time, at most one attempt per `resync_backoff_s`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from matcher.catalog import Part
from matcher.elastic.client import (
    BackendError,
    BackendUnavailable,
    IndexMissing,
    SearchClient,
    ndjson,
    raise_for_status,
)
from matcher.elastic.mapping import (
    HISTORY_TEXT,
    PART_TEXT,
    history_doc,
    history_id,
    index_body,
    part_doc,
)
from matcher.examples import Example

log = logging.getLogger(__name__)

_BULK_CHUNK = 1000
# Writes through an alias: visible to searches when they return, and never auto-creating a
# concrete index named like the alias when the alias is missing.
_WRITE_PARAMS = {"refresh": "wait_for", "require_alias": "true"}


def check_prefix(prefix: str) -> str:
    if not prefix or prefix != prefix.lower() or not all(c.isalnum() or c in "-_" for c in prefix):
        raise ValueError(f"index prefix must be lowercase [a-z0-9_-], got {prefix!r}")
    return prefix


class ElasticsearchIndex:
    """The parts index and, with `history=True`, the history index under one prefix."""

    def __init__(
        self,
        client: SearchClient,
        prefix: str = "partmatch",
        *,
        history: bool = True,
        replicas: int = 0,
        write_timeout_s: float = 60.0,
        swap_grace_s: float = 1.0,
        resync_backoff_s: float = 1.0,
    ) -> None:
        self.client = client
        self.prefix = check_prefix(prefix)
        self.history = history
        self.replicas = replicas
        self.write_timeout_s = write_timeout_s
        # Old indexes are dropped this long after the swap, so searches that resolved the alias
        # just before it still find their index.
        self.swap_grace_s = swap_grace_s
        self.resync_backoff_s = resync_backoff_s
        self._parts: dict[str, Part] = {}
        self._examples: list[Example] = []
        self._stale = False
        self._write_lock = threading.Lock()
        self._resync_lock = threading.Lock()
        self._resync_thread: threading.Thread | None = None
        self._last_resync = float("-inf")

    @property
    def parts_alias(self) -> str:
        return f"{self.prefix}-parts"

    @property
    def history_alias(self) -> str:
        return f"{self.prefix}-history"

    @property
    def stale(self) -> bool:
        """True while the indexes may lag what the writer was given (a write failed)."""
        return self._stale

    @property
    def empty(self) -> bool:
        return not self._parts

    # -- writes ----------------------------------------------------------------------------

    def load(self, parts: Sequence[Part], examples: Sequence[Example]) -> None:
        with self._write_lock:
            self._parts = {p.sku: p for p in parts if p.active}
            self._examples = list(examples)
            self._write(self._rebuild)

    def upsert(self, parts: Sequence[Part]) -> None:
        with self._write_lock:
            for part in parts:
                if part.active:
                    self._parts[part.sku] = part
                else:
                    self._parts.pop(part.sku, None)
            self._write(self._rebuild if self._stale else lambda: self._apply_upsert(parts))

    def retire(self, skus: Iterable[str]) -> None:
        with self._write_lock:
            gone = list(dict.fromkeys(skus))
            for sku in gone:
                self._parts.pop(sku, None)
            self._write(self._rebuild if self._stale else lambda: self._delete(gone))

    def rebuild(self) -> None:
        """A full zero-downtime reindex of what the writer holds (e.g. after a mapping change)."""
        with self._write_lock:
            self._write(self._rebuild)

    def mark_stale(self) -> None:
        """A search found the indexes missing: rebuild them in the background."""
        self._stale = True
        self.schedule_resync()

    def _write(self, action: Callable[[], None]) -> None:
        try:
            try:
                action()
            except IndexMissing:
                # The node is up but lost the index (it came back empty): rebuild it now.
                log.warning("lexical index %s missing; rebuilding", self.parts_alias)
                self._rebuild()
        except BackendUnavailable as exc:
            self._stale = True
            log.warning("search backend unavailable; lexical index marked stale: %s", exc)

    def _live_examples(self, skus: Iterable[str] | None = None) -> list[Example]:
        # Like BM25Signal: history of a retired part stays held (it may come back) but unsearched.
        wanted = self._parts.keys() if skus is None else set(skus) & self._parts.keys()
        return [e for e in self._examples if e.sku is not None and e.sku in wanted]

    def _rebuild(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        parts_index = f"{self.parts_alias}-{stamp}"
        builds: list[tuple[str, str, tuple[str, ...], list[dict[str, Any]]]] = [
            (
                self.parts_alias,
                parts_index,
                PART_TEXT,
                _part_ops(self._parts.values(), parts_index),
            )
        ]
        if self.history:
            history_index = f"{self.history_alias}-{stamp}"
            ops = _history_ops(self._live_examples(), history_index)
            builds.append((self.history_alias, history_index, HISTORY_TEXT, ops))
        created: list[str] = []
        try:
            for _alias, index, fields, ops in builds:
                self._call("PUT", f"/{index}", index_body(fields, self.replicas))
                created.append(index)
                for chunk in _chunks(ops, _BULK_CHUNK):
                    self._bulk(chunk, {})
                self._call("POST", f"/{index}/_refresh")
            old = {alias: self._alias_members(alias) for alias, *_ in builds}
            actions: list[dict[str, Any]] = []
            for alias, index, *_ in builds:
                actions += [{"remove": {"index": o, "alias": alias}} for o in old[alias]]
                actions.append({"add": {"index": index, "alias": alias}})
            # One call: both aliases move together, atomically.
            self._call("POST", "/_aliases", {"actions": actions})
        except BaseException:
            self._drop(created)
            raise
        self._stale = False
        retired = sorted({o for members in old.values() for o in members})
        if retired:
            time.sleep(self.swap_grace_s)
            self._drop(retired)

    def _apply_upsert(self, parts: Sequence[Part]) -> None:
        live = [p for p in parts if p.active]
        gone = [p.sku for p in parts if not p.active]
        ops = _part_ops(live, self.parts_alias)
        if self.history:
            ops += _history_ops(self._live_examples(p.sku for p in live), self.history_alias)
        if ops:
            self._bulk(ops, _WRITE_PARAMS)
        if gone:
            self._delete(gone)

    def _delete(self, skus: Sequence[str]) -> None:
        if not skus:
            return
        ops: list[dict[str, Any]] = [
            {"delete": {"_index": self.parts_alias, "_id": sku}} for sku in skus
        ]
        if self.history:
            # By id, not _delete_by_query: that lives in the reindex module, which Elastic's
            # minimal distribution lacks. Ids are deterministic, and the writer holds every
            # example it indexed.
            gone = set(skus)
            ops += [
                {"delete": {"_index": self.history_alias, "_id": history_id(e)}}
                for e in self._examples
                if e.sku in gone
            ]
        self._bulk(ops, _WRITE_PARAMS)

    def _bulk(self, ops: Sequence[Mapping[str, Any]], params: Mapping[str, str]) -> None:
        result = self._call("POST", "/_bulk", ndjson(ops), params=params)
        if not result.get("errors"):
            return
        for item in result.get("items", []):
            ((op, outcome),) = item.items()
            error = outcome.get("error")
            if not error:
                continue
            raise_for_status(int(outcome.get("status", 0)), {"error": error}, f"bulk {op}")

    def _alias_members(self, alias: str) -> list[str]:
        # _cat answers [] for a missing alias where GET /_alias answers (and logs) a 404.
        rows = self._call("GET", f"/_cat/aliases/{alias}", params={"format": "json", "h": "index"})
        return sorted({row["index"] for row in rows})

    def _drop(self, indexes: Sequence[str]) -> None:
        for index in indexes:
            try:
                self._call("DELETE", f"/{index}", params={"ignore_unavailable": "true"})
            except (BackendUnavailable, BackendError) as exc:
                log.warning("could not drop index %s (drop it by hand): %s", index, exc)

    def _call(
        self, method: str, path: str, body: Any = None, *, params: Mapping[str, str] | None = None
    ) -> Any:
        return self.client.request(method, path, body, params=params, timeout=self.write_timeout_s)

    # -- background resync -----------------------------------------------------------------

    def schedule_resync(self) -> None:
        with self._resync_lock:
            now = time.monotonic()
            running = self._resync_thread is not None and self._resync_thread.is_alive()
            if running or now - self._last_resync < self.resync_backoff_s:
                return
            self._last_resync = now
            self._resync_thread = threading.Thread(
                target=self._resync, name=f"resync-{self.prefix}", daemon=True
            )
            self._resync_thread.start()

    def _resync(self) -> None:
        with self._write_lock:
            if not self._stale:
                return
            try:
                self._rebuild()
                log.info("lexical index %s resynced", self.parts_alias)
            except BackendUnavailable as exc:
                log.warning("lexical resync failed, will retry: %s", exc)
            except Exception:
                log.exception("lexical resync failed")

    def wait_for_resync(self, timeout_s: float) -> bool:
        """For tests and shutdown: wait for a running background resync; True if none is left."""
        thread = self._resync_thread
        if thread is not None:
            thread.join(timeout_s)
        return not (thread is not None and thread.is_alive())


def drop_prefix(client: SearchClient, prefix: str, timeout_s: float = 60.0) -> list[str]:
    """Drop every index under `prefix` (its aliases go with them); the names dropped."""
    check_prefix(prefix)
    rows = client.request(
        "GET",
        f"/_cat/indices/{prefix}-*",
        params={"format": "json", "h": "index", "expand_wildcards": "all"},
        timeout=timeout_s,
    )
    names = sorted(row["index"] for row in rows)
    for name in names:
        client.request(
            "DELETE", f"/{name}", params={"ignore_unavailable": "true"}, timeout=timeout_s
        )
    return names


def _part_ops(parts: Iterable[Part], index: str) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for part in parts:
        ops.append({"index": {"_index": index, "_id": part.sku}})
        ops.append(part_doc(part))
    return ops


def _history_ops(examples: Iterable[Example], index: str) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for example in examples:
        ops.append({"index": {"_index": index, "_id": history_id(example)}})
        ops.append(history_doc(example))
    return ops


def _chunks(ops: Iterable[Mapping[str, Any]], pairs: int) -> Iterator[list[Mapping[str, Any]]]:
    chunk: list[Mapping[str, Any]] = []
    for op in ops:
        chunk.append(op)
        if len(chunk) >= pairs * 2 and len(chunk) % 2 == 0:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
