"""Live structures are frozen out of the cyclic collector's passes, and still freed when dropped."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from matcher import heap
from matcher.app import build_matcher
from matcher.catalog import Part, make_part
from matcher.catalog_view import CatalogViewBuilder, LiveView
from matcher.catalog_view import view as view_module
from matcher.config import Settings
from matcher.encoder import Encoder
from matcher.examples import Example


@pytest.fixture
def frozen() -> Iterator[None]:
    heap.keep_live_objects_frozen()
    yield
    heap.stop_freezing()


def _ours(thing: object) -> bool:
    return type(thing).__module__.split(".")[0] == "matcher"


def _wipers(live: LiveView, count: int) -> None:
    for number in range(count):
        live.upsert([make_part(sku=f"NEW{number}", name=f"wiper motor {number}")])


def test_views_and_matchers_leave_nothing_for_the_cyclic_collector(
    settings: Settings,
    encoder: Encoder,
    parts: list[Part],
    history: list[Example],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Frozen objects are freed by reference counting alone: garbage in a cycle would stay.
    monkeypatch.setattr(view_module, "COMPACT_AT", 2)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        matcher = build_matcher(settings, parts, history, encoder=encoder)
        matcher.match("front brake pads", vehicle="golf")
        matcher.match_batch([])
        matcher.upsert([make_part(sku="HORN", name="twin tone horn")])
        matcher.retire(["MUFF"])
        live = LiveView(CatalogViewBuilder(encoder))
        live.load(parts, history)
        _wipers(live, 3)
        assert live.compaction is not None
        live.compaction.result(timeout=60)
        del matcher, live
        gc.collect()
        # Ours only: other tests' servers and clients may still be dropping their own cycles
        # (an exception and its traceback) on threads of their own.
        cyclic = [type(o).__qualname__ for o in gc.garbage if _ours(o)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert cyclic == []


def test_each_view_that_goes_live_is_frozen_and_freed_once_replaced(
    frozen: None, parts: list[Part], history: list[Example], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(view_module, "COMPACT_AT", 2)
    live = LiveView(CatalogViewBuilder())
    before = gc.get_freeze_count()
    live.load(parts, history)
    loaded = gc.get_freeze_count()
    assert loaded > before
    built = weakref.ref(live.current)

    _wipers(live, 3)
    patched = weakref.ref(live.current)
    assert live.compaction is not None
    live.compaction.result(timeout=60)
    # The view built whole went live and was frozen too; the views it replaced, frozen or
    # not, are gone.
    assert gc.get_freeze_count() > loaded
    assert built() is None and patched() is None


def test_no_full_pass_runs_while_a_view_is_built_and_the_defaults_come_back_after(
    frozen: None,
) -> None:
    defaults = gc.get_threshold()
    with heap.building():
        with heap.building():
            assert gc.get_threshold()[:2] == defaults[:2]
            assert gc.get_threshold()[2] > 1_000_000
        # One build still runs.
        assert gc.get_threshold()[2] > 1_000_000
    assert gc.get_threshold() == defaults


def test_a_process_that_did_not_opt_in_keeps_pythons_collector_as_it_is() -> None:
    defaults, frozen_before = gc.get_threshold(), gc.get_freeze_count()
    with heap.building():
        assert gc.get_threshold() == defaults
    heap.settle()
    assert gc.get_freeze_count() == frozen_before


def test_a_change_that_builds_the_view_whole_freezes_it_and_a_patch_does_not(
    frozen: None, parts: list[Part], history: list[Example], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(view_module, "COMPACT_AT", 2)
    live = LiveView(CatalogViewBuilder())
    live.load(parts, history)
    loaded = gc.get_freeze_count()
    live.upsert([make_part(sku="HORN", name="twin tone horn")])
    # Nothing more frozen (what the patch replaced was freed, frozen or not).
    patched = gc.get_freeze_count()
    assert patched <= loaded
    # More than COMPACT_AT parts in one call: a bulk import, built whole within the call.
    live.upsert([make_part(sku=f"NEW{n}", name=f"wiper motor {n}") for n in range(3)])
    assert live.current.names.recent == {}
    assert gc.get_freeze_count() > patched
