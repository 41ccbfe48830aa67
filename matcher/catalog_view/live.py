"""The live catalog view of a matcher: read without a lock, changed by one writer at a time,
and built whole again in the background once enough parts have changed.

A change is patched into the view in milliseconds (matcher/catalog_view/view.py); each patch
leaves the changed parts in recent segments that every search scores one by one. Once the
builder says a view is due, a thread of its own builds it whole from a snapshot — 30 s at
100,000 parts, which an upsert used to wait for, one in every COMPACT_AT — while changes go on
being patched into the live view. The SKUs they touch are noted, and the finished view is
brought up to date with them before it replaces the live one. A view built whole meanwhile (a
load, or a change that could not be patched) makes the snapshot's build out of date, and the
compaction's result is dropped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future

from matcher import heap
from matcher.catalog import Part
from matcher.catalog_view.view import CatalogView, CatalogViewBuilder
from matcher.examples import Example

log = logging.getLogger(__name__)


class LiveView:
    def __init__(self, builder: CatalogViewBuilder) -> None:
        self._builder = builder
        self._view = builder.build([], [])
        # Held for each change (a bulk one builds the view whole under it) and for putting a
        # compaction's result in place, never while a compaction builds.
        self._lock = threading.Lock()
        # SKUs changed since the running compaction's snapshot; None while none runs.
        self._touched: set[str] | None = None
        # The latest compaction started, for whoever must know when it is done.
        self.compaction: Future[None] | None = None

    @property
    def current(self) -> CatalogView:
        return self._view

    def load(self, parts: Sequence[Part], examples: Sequence[Example]) -> None:
        with heap.building():
            view = self._builder.build(parts, examples)
        with self._lock:
            self._view = view
        heap.settle()

    def upsert(self, parts: Sequence[Part]) -> None:
        # A change that cannot be patched builds the view whole within the call.
        with self._lock, heap.building():
            self._changed(self._builder.upsert(self._view, parts), (p.sku for p in parts))

    def retire(self, skus: Sequence[str]) -> None:
        with self._lock:
            self._changed(self._builder.retire(self._view, skus), skus)

    def _changed(self, view: CatalogView, skus: Iterable[str]) -> None:
        """Under the lock: `view` is live, after a change of `skus`."""
        built_whole = view.built is not self._view.built
        self._view = view
        if built_whole:
            heap.settle()
        if self._touched is not None:
            self._touched.update(skus)
        else:
            self._compact_if_due()

    def _compact_if_due(self) -> None:
        if not self._builder.due(self._view):
            return
        self._touched = set()
        self.compaction = done = Future[None]()
        # A daemon thread: a server that stops does not wait for a view it will never serve.
        threading.Thread(
            target=self._compact, args=(self._view, done), name="compaction", daemon=True
        ).start()

    def _compact(self, snapshot: CatalogView, done: Future[None]) -> None:
        try:
            with heap.building():
                compacted = self._builder.compact(snapshot)
            if self._swap(snapshot, compacted):
                heap.settle()
        except BaseException as error:
            # The patched view goes on serving; the next change tries again.
            log.exception("building the catalog view whole failed")
            with self._lock:
                self._touched = None
            done.set_exception(error)
        else:
            done.set_result(None)

    def _swap(self, snapshot: CatalogView, compacted: CatalogView) -> bool:
        """Whether `compacted`, brought up to date, replaced the live view."""
        with self._lock:
            touched, self._touched = self._touched or set(), None
            live = self._view
            if live.built is not snapshot.built:
                log.info("catalog view compaction dropped: the view was built whole meanwhile")
                return False
            self._view = self._builder.caught_up(compacted, live, touched)
            # So many changes came meanwhile that the view is due again.
            self._compact_if_due()
            return True
