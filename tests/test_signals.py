"""Each signal alone, searching a catalog view of a small catalog with the traps of the real
one."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from matcher.catalog import Part, make_part
from matcher.catalog_view import CatalogView, CatalogViewBuilder, name_index
from matcher.catalog_view.name_index import SHORTLIST
from matcher.encoder import Encoder
from matcher.examples import Example
from matcher.query import Query, extract_codes, normalise_code
from matcher.signals.base import Signal
from matcher.signals.codes import CodeSignal
from matcher.signals.fuzzy import FuzzySignal
from matcher.signals.lexical import BM25Signal
from matcher.signals.semantic import SemanticSignal


def top(signal: Signal, view: CatalogView, text: str) -> str | None:
    hits = signal.search(view, Query.parse(text), 5)
    return hits[0].sku if hits else None


def view_of(
    parts: list[Part],
    history: list[Example],
    encoder: Encoder | None = None,
    lexical_history: bool = True,
) -> CatalogView:
    return CatalogViewBuilder(encoder, lexical_history=lexical_history).build(parts, history)


def test_bm25_ranks_by_terms_and_stems(parts: list[Part], history: list[Example]) -> None:
    bm25, view = BM25Signal(), view_of(parts, history, lexical_history=False)
    assert top(bm25, view, "rear brake pads for a 2012 golf") == "BRK-R"
    assert top(bm25, view, "pad front brake") == "BRK-F"
    assert top(bm25, view, "bonnet latch") == "HOOD-L"
    hits = bm25.search(view, Query.parse("rear brake pads"), 5)
    assert all(0.0 < h.score < 1.0 for h in hits)
    assert bm25.search(view, Query.parse("zzzz qqqq"), 5) == []


def test_bm25_history_finds_lay_descriptions(parts: list[Part], history: list[Example]) -> None:
    without = view_of(parts, history, lexical_history=False)
    with_history = view_of(parts, history, lexical_history=True)
    text = "the round thing you steer with"
    assert top(BM25Signal(), without, text) != "STEER"
    assert top(BM25Signal(), with_history, text) == "STEER"


def test_fuzzy_survives_typos_and_word_order(parts: list[Part], history: list[Example]) -> None:
    fuzzy, view = FuzzySignal(), view_of(parts, history)
    assert top(fuzzy, view, "alternater") == "ALT"
    assert top(fuzzy, view, "sparkplug") == "SPARK"
    assert top(fuzzy, view, "pads brake rear") == "BRK-R"
    assert top(fuzzy, view, "exhaust silencr") == "MUFF"
    (hit, *_) = fuzzy.search(view, Query.parse("alternater"), 1)
    assert 0.8 < hit.score <= 1.0


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("need 04465-33471 asap", {"0446533471"}),
        ("04465 33471", {"0446533471"}),
        ("battery DAV-IS50 please", {"davis50"}),
        ("1K0615301AA", {"1k0615301aa"}),
        ("for a 2012 golf", set()),  # a year is not a part number
    ],
)
def test_code_extraction_normalises_case_and_separators(text: str, codes: set[str]) -> None:
    assert codes <= extract_codes(text)
    if not codes:
        assert extract_codes(text) == set()


def test_codes_match_exactly(parts: list[Part], history: list[Example]) -> None:
    codes, view = CodeSignal(), view_of(parts, history)
    assert top(codes, view, "do you have 0446533471") == "BRK-F"
    assert top(codes, view, "04465.33471") == "BRK-F"
    assert top(codes, view, "dav is50") == "BATT"
    assert top(codes, view, "0-44-6533 47 1") == "BRK-F"  # five pieces
    assert top(codes, view, "04465-99999") is None
    assert normalise_code("DAV-IS50") == "davis50"


def test_a_part_number_one_character_off_is_offered_as_a_near_miss(
    parts: list[Part], history: list[Example]
) -> None:
    codes, view = CodeSignal(), view_of(parts, history)
    near = codes.search(view, Query.parse("04465-33472"), 5)
    assert [h.sku for h in near] == ["BRK-F"]
    assert near[0].features.get("code_near") == 1.0
    exact = codes.search(view, Query.parse("04465-33471"), 5)
    assert exact[0].score > near[0].score and "code_near" not in exact[0].features


def test_semantic_uses_catalog_text_and_history(
    encoder: Encoder, parts: list[Part], history: list[Example]
) -> None:
    semantic, view = SemanticSignal(encoder), view_of(parts, history, encoder)
    assert top(semantic, view, "the round thing you steer with") == "STEER"
    assert top(semantic, view, "exhaust silencer") == "MUFF"
    (hit, *_) = semantic.search(view, Query.parse("thing you hold to drive"), 1)
    assert hit.features["sem_history"] > 0.99  # a labelled text is its own nearest neighbour
    nopart = semantic.search(view, Query.parse("where is my order"), 1)[0]
    assert nopart.features["sem_nopart"] > 0.99


@pytest.mark.parametrize("make", [BM25Signal, FuzzySignal, CodeSignal])
def test_upsert_and_retire_take_effect_at_once(
    make: type[BM25Signal] | type[FuzzySignal] | type[CodeSignal],
    parts: list[Part],
    history: list[Example],
) -> None:
    signal, builder = make(), CatalogViewBuilder()
    view = builder.build(parts, history)
    new = make_part(sku="TURBO", name="turbocharger", attributes={"part_number": "TB-9000X"})
    text = "turbocharger TB-9000X"
    assert top(signal, view, text) != "TURBO"
    view = builder.upsert(view, [new])
    assert top(signal, view, text) == "TURBO"
    view = builder.retire(view, ["TURBO"])
    assert top(signal, view, text) != "TURBO"


def test_semantic_upsert_and_retire(encoder: Encoder, parts: list[Part]) -> None:
    signal, builder = SemanticSignal(encoder), CatalogViewBuilder(encoder)
    view = builder.upsert(builder.build(parts, []), [make_part(sku="TURBO", name="turbocharger")])
    assert top(signal, view, "turbo charger") == "TURBO"
    view = builder.retire(view, ["TURBO"])
    assert top(signal, view, "turbo charger") != "TURBO"


def test_fuzzy_shortlists_a_large_catalog_without_losing_the_typed_part() -> None:
    # More names than the shortlist holds: the trigram shortlist decides what is scored.
    fillers = [
        make_part(sku=f"F{i:04d}", name=f"Wheel bearing kit {i}") for i in range(SHORTLIST + 50)
    ]
    wanted = make_part(sku="ALT", name="Alternator 140A", aliases=["generator"])
    view = view_of([*fillers, wanted], [])
    assert view.names.grams is not None
    assert top(FuzzySignal(), view, "alternater for my car") == "ALT"
    assert len(view.names.shortlist("wheel bearing")[0]) == SHORTLIST


def test_the_trigram_matrix_built_in_steps_is_the_one_scipy_builds_from_the_pairs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(name_index, "CHUNK", 7)  # many chunks, one of them partial
    index = name_index.NameIndex.build(
        (f"P{i}", (f"wheel bearing kit {i}", f"hub {i % 7} front")) for i in range(SHORTLIST)
    )
    assert index.grams is not None and index.gram_ids is not None
    rows, columns = [], []
    for row, name in enumerate(index.choices):
        for gram in name_index.trigrams(name):
            rows.append(row)
            columns.append(index.gram_ids[gram])
    reference = sparse.csc_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=index.grams.shape
    )
    assert np.array_equal(index.grams.indptr, reference.indptr)
    assert np.array_equal(index.grams.indices, reference.indices)
    assert (index.grams != reference).nnz == 0
