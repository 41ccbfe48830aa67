"""The live view: changes are patched in at once, and the view is built whole in the background."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from matcher.catalog import Part, make_part
from matcher.catalog_view import CatalogView, CatalogViewBuilder, LiveView
from matcher.catalog_view import view as view_module
from matcher.encoder import Encoder
from matcher.examples import Example
from matcher.query import Query
from matcher.signals.base import Signal
from matcher.signals.codes import CodeSignal
from matcher.signals.fuzzy import FuzzySignal
from matcher.signals.lexical import BM25Signal
from matcher.signals.semantic import SemanticSignal

TEXTS = ["wiper motor 3", "wiper motor", "dynamo", "alternator", "steering wheel", "exhaust"]


class HeldBuilder(CatalogViewBuilder):
    """A builder whose compaction waits until the test lets it finish. At 100,000 parts a
    compaction takes 30 s; on a test's catalog it is over before any change could come
    meanwhile, so this holds it open (a fake for timing only: the view built is real)."""

    def __init__(self, encoder: Encoder | None = None) -> None:
        super().__init__(encoder)
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail = False

    def compact(self, view: CatalogView) -> CatalogView:
        self.started.set()
        assert self.release.wait(30)
        if self.fail:
            raise MemoryError("a fault that a small catalog cannot cause")
        return super().compact(view)


@pytest.fixture(autouse=True)
def small_compaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(view_module, "COMPACT_AT", 2)


@pytest.fixture
def held(encoder: Encoder) -> Iterator[HeldBuilder]:
    builder = HeldBuilder(encoder)
    yield builder
    builder.release.set()


def _wiper(number: int) -> Part:
    return make_part(sku=f"NEW{number}", name=f"wiper motor {number}")


def _answers(view: CatalogView, encoder: Encoder) -> list[list[str]]:
    signals: list[Signal] = [BM25Signal(), FuzzySignal(), CodeSignal(), SemanticSignal(encoder)]
    return [
        [h.sku for h in signal.search(view, Query.parse(text), 3)]
        for signal in signals
        for text in TEXTS
    ]


def _whole(parts: list[Part], history: list[Example], encoder: Encoder) -> CatalogView:
    return CatalogViewBuilder(encoder).build(parts, history)


def _compacting(held: HeldBuilder, parts: list[Part], history: list[Example]) -> LiveView:
    """A live view whose third change made it due, its compaction held open."""
    live = LiveView(held)
    live.load(parts, history)
    for number in range(3):
        live.upsert([_wiper(number)])
    assert held.started.wait(30)
    return live


def test_changes_past_the_limit_are_patched_at_once_and_built_whole_in_the_background(
    encoder: Encoder, parts: list[Part], history: list[Example], held: HeldBuilder
) -> None:
    live = _compacting(held, parts, history)
    # It is live, patched, while the compaction runs.
    assert live.compaction is not None
    assert live.current.names.recent.keys() == {"NEW0", "NEW1", "NEW2"}
    held.release.set()
    live.compaction.result(timeout=60)

    assert live.current.names.recent == {}
    whole = _whole([*parts, *(_wiper(n) for n in range(3))], history, encoder)
    assert _answers(live.current, encoder) == _answers(whole, encoder)


def test_changes_made_during_a_compaction_are_in_the_view_that_replaces_the_live_one(
    encoder: Encoder, parts: list[Part], history: list[Example], held: HeldBuilder
) -> None:
    live = _compacting(held, parts, history)
    assert live.compaction is not None
    # Meanwhile: a new part, a changed one (also in the snapshot), a retired one.
    renamed = make_part(sku="ALT", name="dynamo charging unit", aliases=["generator"])
    live.upsert([_wiper(3), renamed])
    live.retire(["MUFF", "NEW1"])
    before = live.current
    held.release.set()
    live.compaction.result(timeout=60)

    after = live.current
    assert after is not before and after.built is not before.built
    # Only what changed during the compaction is left in a recent segment.
    assert after.names.recent.keys() == {"NEW3", "ALT"}
    final = [
        *(p for p in parts if p.sku not in {"MUFF", "ALT"}),
        renamed,
        *(_wiper(n) for n in (0, 2, 3)),
    ]
    whole = _whole(final, history, encoder)
    assert after.parts.keys() == whole.parts.keys()
    assert after.own_terms == whole.own_terms
    assert [e.text for e in after.history] == [e.text for e in whole.history]
    assert _answers(after, encoder) == _answers(whole, encoder)


def test_a_load_during_a_compaction_drops_its_result(
    parts: list[Part], history: list[Example], held: HeldBuilder
) -> None:
    live = _compacting(held, parts, history)
    assert live.compaction is not None
    live.load(parts, history)
    loaded = live.current
    held.release.set()
    live.compaction.result(timeout=60)
    assert live.current is loaded and "NEW0" not in live.current.parts


def test_a_failed_compaction_leaves_the_patched_view_serving_and_the_next_change_retries(
    parts: list[Part], history: list[Example], held: HeldBuilder
) -> None:
    live = LiveView(held)
    live.load(parts, history)
    held.fail = True
    held.release.set()
    for number in range(3):
        live.upsert([_wiper(number)])
    failed = live.compaction
    assert failed is not None
    with pytest.raises(MemoryError):
        failed.result(timeout=60)
    assert live.current.names.recent.keys() == {"NEW0", "NEW1", "NEW2"}
    assert BM25Signal().search(live.current, Query.parse("wiper motor 2"), 1)[0].sku == "NEW2"

    held.fail = False
    live.upsert([_wiper(3)])
    assert live.compaction is not failed
    live.compaction.result(timeout=60)
    assert live.current.names.recent == {} and "NEW3" in live.current.parts
