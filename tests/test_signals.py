"""Each signal alone, on a small catalog with the traps of the real one."""

from __future__ import annotations

import pytest

from matcher.catalog import Part, make_part
from matcher.encoder import Encoder
from matcher.examples import Example
from matcher.query import Query, extract_codes, normalise_code
from matcher.signals.base import Signal
from matcher.signals.codes import CodeSignal
from matcher.signals.fuzzy import FuzzySignal
from matcher.signals.lexical import BM25Signal
from matcher.signals.semantic import SemanticSignal


def top(signal: Signal, text: str) -> str | None:
    hits = signal.search(Query.parse(text), 5)
    return hits[0].sku if hits else None


def loaded(signal: Signal, parts: list[Part], history: list[Example]) -> Signal:
    signal.load(parts, history)
    return signal


def test_bm25_ranks_by_terms_and_stems(parts: list[Part], history: list[Example]) -> None:
    bm25 = loaded(BM25Signal(history=False), parts, history)
    assert top(bm25, "rear brake pads for a 2012 golf") == "BRK-R"
    assert top(bm25, "pad front brake") == "BRK-F"
    assert top(bm25, "bonnet latch") == "HOOD-L"
    hits = bm25.search(Query.parse("rear brake pads"), 5)
    assert all(0.0 < h.score < 1.0 for h in hits)
    assert bm25.search(Query.parse("zzzz qqqq"), 5) == []


def test_bm25_history_finds_lay_descriptions(parts: list[Part], history: list[Example]) -> None:
    without = loaded(BM25Signal(history=False), parts, history)
    with_history = loaded(BM25Signal(history=True), parts, history)
    text = "the round thing you steer with"
    assert top(without, text) != "STEER"
    assert top(with_history, text) == "STEER"


def test_fuzzy_survives_typos_and_word_order(parts: list[Part], history: list[Example]) -> None:
    fuzzy = loaded(FuzzySignal(), parts, history)
    assert top(fuzzy, "alternater") == "ALT"
    assert top(fuzzy, "sparkplug") == "SPARK"
    assert top(fuzzy, "pads brake rear") == "BRK-R"
    assert top(fuzzy, "exhaust silencr") == "MUFF"
    (hit, *_) = fuzzy.search(Query.parse("alternater"), 1)
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
    codes = loaded(CodeSignal(), parts, history)
    assert top(codes, "do you have 0446533471") == "BRK-F"
    assert top(codes, "04465.33471") == "BRK-F"
    assert top(codes, "dav is50") == "BATT"
    assert top(codes, "04465-33472") is None
    assert normalise_code("DAV-IS50") == "davis50"


def test_semantic_uses_catalog_text_and_history(
    encoder: Encoder, parts: list[Part], history: list[Example]
) -> None:
    semantic = loaded(SemanticSignal(encoder), parts, history)
    assert top(semantic, "the round thing you steer with") == "STEER"
    assert top(semantic, "exhaust silencer") == "MUFF"
    (hit, *_) = semantic.search(Query.parse("thing you hold to drive"), 1)
    assert hit.features["sem_history"] > 0.99  # a labelled text is its own nearest neighbour
    nopart = semantic.search(Query.parse("where is my order"), 1)[0]
    assert nopart.features["sem_nopart"] > 0.99


@pytest.mark.parametrize("make", [BM25Signal, FuzzySignal, CodeSignal])
def test_upsert_and_retire_take_effect_at_once(
    make: type[BM25Signal] | type[FuzzySignal] | type[CodeSignal],
    parts: list[Part],
    history: list[Example],
) -> None:
    signal = loaded(make(), parts, history)
    new = make_part(sku="TURBO", name="turbocharger", attributes={"part_number": "TB-9000X"})
    text = "turbocharger TB-9000X"
    assert top(signal, text) != "TURBO"
    signal.upsert([new])
    assert top(signal, text) == "TURBO"
    signal.retire(["TURBO"])
    assert top(signal, text) != "TURBO"


def test_semantic_upsert_and_retire(encoder: Encoder, parts: list[Part]) -> None:
    signal = loaded(SemanticSignal(encoder), parts, [])
    signal.upsert([make_part(sku="TURBO", name="turbocharger")])
    assert top(signal, "turbo charger") == "TURBO"
    signal.retire(["TURBO"])
    assert top(signal, "turbo charger") != "TURBO"
