"""The catalog view: one immutable snapshot per catalog state, changed incrementally."""

from __future__ import annotations

import numpy as np

from matcher.catalog import Part, make_part
from matcher.catalog_view import CatalogViewBuilder
from matcher.encoder import Encoder
from matcher.examples import Example
from matcher.query import Query
from matcher.signals.lexical import BM25Signal


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
    assert "STEER" not in retired.names.skus and "STEER" not in retired.codes.owners

    back = builder.upsert(retired, [steer])
    assert [e for e in back.history if e.sku == "STEER"] == labelled
    assert bm25.search(back, query, 1)[0].sku == "STEER"


def test_an_inactive_part_in_an_upsert_retires_it(parts: list[Part]) -> None:
    builder = CatalogViewBuilder()
    view = builder.build(parts, [])
    gone = make_part(sku="ALT", name="alternator", active=False)
    assert "ALT" not in builder.upsert(view, [gone]).parts
