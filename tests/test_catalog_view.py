"""The catalog view: one immutable snapshot per catalog state, changed incrementally."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.catalog import Part, make_part
from matcher.catalog_view import CatalogView, CatalogViewBuilder, ann, vector_index
from matcher.catalog_view import view as view_module
from matcher.catalog_view.vector_index import VectorIndex
from matcher.encoder import Encoder
from matcher.examples import Example
from matcher.query import Query
from matcher.signals.base import Signal
from matcher.signals.codes import CodeSignal
from matcher.signals.fuzzy import FuzzySignal
from matcher.signals.lexical import BM25Signal
from matcher.signals.semantic import SemanticSignal


def test_an_upsert_recomputes_only_the_changed_part(
    encoder: Encoder, parts: list[Part], history: list[Example]
) -> None:
    builder = CatalogViewBuilder(encoder)
    before = builder.build(parts, history)
    changed = make_part(sku="ALT", name="generator unit")
    after = builder.upsert(before, [changed])

    assert after.parts["ALT"] is changed and before.parts["ALT"] is not changed
    for sku in before.parts.keys() - {"ALT"}:
        assert after.analysed[sku] is before.analysed[sku]
        assert after.part_vectors[sku] is before.part_vectors[sku]
    assert not np.allclose(after.part_vectors["ALT"], before.part_vectors["ALT"])
    # The old view is untouched: a request that holds it finishes on the old catalog.
    assert before.part("ALT") is not None and before.part("ALT") != changed
    assert list(after.parts) == list(before.parts)  # a replaced part keeps its place


def test_retiring_hides_a_part_and_its_history_until_it_comes_back(
    parts: list[Part], history: list[Example]
) -> None:
    builder, bm25 = CatalogViewBuilder(), BM25Signal()
    view = builder.build(parts, history)
    steer = view.parts["STEER"]
    labelled = [e for e in view.history if e.sku == "STEER"]
    assert labelled

    retired = builder.retire(view, ["STEER"])
    assert "STEER" not in retired.parts
    assert all(e.sku != "STEER" for e in retired.history)
    query = Query.parse(labelled[0].text)
    assert all(h.sku != "STEER" for h in bm25.search(retired, query, 10))
    assert "STEER" not in retired.names.shortlist("steering wheel")[1]
    assert all("STEER" not in owners for owners in retired.codes.owners.values())

    back = builder.upsert(retired, [steer])
    assert [e for e in back.history if e.sku == "STEER"] == labelled
    assert bm25.search(back, query, 1)[0].sku == "STEER"


def test_an_inactive_part_in_an_upsert_retires_it(parts: list[Part]) -> None:
    builder = CatalogViewBuilder()
    view = builder.build(parts, [])
    gone = make_part(sku="ALT", name="alternator", active=False)
    assert "ALT" not in builder.upsert(view, [gone]).parts


def _answers(view: CatalogView, signals: list[Signal], texts: list[str]) -> list[list[str]]:
    return [
        [h.sku for h in signal.search(view, Query.parse(text), 3)]
        for signal in signals
        for text in texts
    ]


def test_a_patched_view_answers_as_one_built_whole(
    encoder: Encoder, parts: list[Part], history: list[Example]
) -> None:
    builder = CatalogViewBuilder(encoder)
    view = builder.build(parts, history)
    renamed = make_part(sku="ALT", name="dynamo charging unit", aliases=["generator"])
    added = make_part(sku="HORN", name="twin tone horn", description="Loud 12V horn.")
    patched = builder.retire(builder.upsert(view, [renamed, added]), ["MUFF"])
    whole = builder.build([*(p for p in parts if p.sku != "MUFF"), renamed, added], history)

    # Nothing was rebuilt: the changes sit beside the built indexes.
    assert patched.names.recent.keys() == {"ALT", "HORN"}
    assert patched.lexical is not None and patched.lexical.retriever is view.lexical.retriever
    assert patched.vectors is not None and patched.vectors.catalog is view.vectors.catalog
    signals = [BM25Signal(), FuzzySignal(), SemanticSignal(encoder), CodeSignal()]
    texts = ["dynamo", "alternator", "twin tone horn", "exhaust silencer", "front brake pads"]
    assert _answers(patched, signals, texts) == _answers(whole, signals, texts)
    assert patched.parts.keys() == whole.parts.keys()
    assert patched.own_terms == whole.own_terms
    assert patched.attributes.parts == whole.attributes.parts


def test_a_view_with_enough_changed_parts_is_due_and_compacts_into_one_built_whole(
    parts: list[Part], history: list[Example], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(view_module, "COMPACT_AT", 2)
    builder = CatalogViewBuilder()
    view = builder.build(parts, history)
    for number in range(3):
        assert not builder.due(view)
        view = builder.upsert(view, [make_part(sku=f"NEW{number}", name=f"wiper motor {number}")])
    # Changes are patched in, however many: building whole is left to the caller (LiveView).
    assert view.names.recent.keys() == {"NEW0", "NEW1", "NEW2"} and builder.due(view)

    compacted = builder.compact(view)
    assert compacted.names.recent == {} and not builder.due(compacted)
    assert compacted.built is not view.built
    signals = [BM25Signal(), FuzzySignal(), CodeSignal()]
    texts = ["wiper motor 2", "wiper motor", "alternator", "front brake pads"]
    assert _answers(compacted, signals, texts) == _answers(view, signals, texts)


def test_a_bulk_change_is_built_whole_at_once(
    parts: list[Part], history: list[Example], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(view_module, "COMPACT_AT", 2)
    builder = CatalogViewBuilder()
    view = builder.build(parts, history)
    bulk = [make_part(sku=f"NEW{n}", name=f"wiper motor {n}") for n in range(3)]
    after = builder.upsert(view, bulk)
    assert after.names.recent == {} and after.built is not view.built
    assert BM25Signal().search(after, Query.parse("wiper motor 2"), 1)[0].sku == "NEW2"


def test_a_large_vector_matrix_is_searched_approximately_and_still_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ann, "MIN_ROWS", 100)
    rng = np.random.default_rng(7)
    rows = rng.standard_normal((2000, 32)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    skus = [f"P{i}" for i in range(len(rows))]
    index = VectorIndex.build(rows, skus, rows[:0], [])
    assert index.catalog_ann is not None
    # A row is found by its own vector, from the few clusters probed.
    for row in (0, 777, 1999):
        found, sims = index.nearest(rows[row], 5)
        assert found[0] == row and sims[0] == pytest.approx(1.0, abs=1e-5)
    # A changed part answers with its new vector, a retired one not at all.
    moved = -rows[5]
    changed = index.changed({"P5": moved}, ["P9"])
    assert changed.skus[changed.nearest(moved, 1)[0][0]] == "P5"
    assert 5 not in changed.nearest(rows[5], 10)[0]
    assert 9 not in changed.nearest(rows[9], 10)[0]


def test_vectors_stacked_a_few_rows_at_a_time_are_the_rows_stacked_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(vector_index, "STACK_ROWS", 3)
    rows = list(np.random.default_rng(3).standard_normal((10, 4)).astype(np.float32))
    assert np.array_equal(vector_index.stacked(rows, 4), np.stack(rows))
    assert vector_index.stacked([], 4).shape == (0, 4)
