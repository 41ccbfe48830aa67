"""The catalog's words filed for finding those a typo away from a request's word: the same
words a comparison with every one of them finds."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

from rapidfuzz.distance import OSA

from indexer.dataset import load_dataset
from matcher.analysis import terms
from matcher.catalog_view import CatalogViewBuilder
from matcher.catalog_view.typo_index import TypoIndex
from matcher.coverage import TYPO_MIN_CHARS

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _typed(word: str, rng: random.Random) -> str:
    """The word with one or two random edits: a substitution, insertion, deletion or swap."""
    for _ in range(rng.choice((1, 1, 2))):
        i = rng.randrange(len(word))
        edit = rng.choice(("sub", "ins", "del", "swap"))
        letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
        if edit == "sub":
            word = word[:i] + letter + word[i + 1 :]
        elif edit == "ins":
            word = word[:i] + letter + word[i:]
        elif edit == "del" and len(word) > 1:
            word = word[:i] + word[i + 1 :]
        elif edit == "swap" and i + 1 < len(word):
            word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word


def _compared_with_each(term: str, vocabulary: set[str]) -> frozenset[str]:
    if len(term) < TYPO_MIN_CHARS:
        return frozenset([term])
    return frozenset({term, *(w for w in vocabulary if OSA.distance(term, w) <= 1)})


def test_the_index_finds_exactly_the_words_one_edit_away() -> None:
    data = load_dataset(SAMPLE)
    vocabulary = {t for p in data.catalog for t in terms(p.catalog_text())}
    vocabulary |= {t for e in data.history for t in terms(e.text)}
    index = TypoIndex.build(vocabulary)
    rng = random.Random(7)
    probes = [_typed(w, rng) for w in sorted(vocabulary) for _ in range(2)] + ["tyer", "cat"]
    found_typos = 0
    for probe in probes:
        expected = _compared_with_each(probe, vocabulary)
        assert index.near(probe) == expected, probe
        found_typos += len(expected - {probe}) > 0
    assert found_typos > len(probes) // 3  # the probes do reach words one edit away


def test_words_added_since_the_build_are_found_too() -> None:
    index = TypoIndex.build(["tyre", "battery"])
    grown = index.with_words(["dynamo", "tyre", "ab"])
    assert grown.recent == {"dynamo"}  # known and too short words are not added
    assert grown.near("dinamo") == {"dinamo", "dynamo"}
    assert grown.near("tyer") == {"tyer", "tyre"}
    assert index.near("dinamo") == {"dinamo"}  # the old index is unchanged
    assert grown.with_words(["dynamo"]) is grown


def test_a_patched_view_explains_a_request_as_one_built_whole() -> None:
    builder = CatalogViewBuilder()
    data = load_dataset(SAMPLE)
    view = builder.build(data.catalog, data.history)
    first = data.catalog[0]
    renamed = replace(first, name="dynamo charging unit")
    patched = builder.upsert(view, [renamed])
    whole = builder.build([renamed, *data.catalog[1:]], data.history)
    assert patched.typos.recent and not whole.typos.recent
    wanted = ["dinamo", "chargng", "unit"]
    for sku in (first.sku, data.catalog[1].sku):
        own = patched.own_terms[sku]
        assert own == whole.own_terms[sku]
        explained = [patched.typos.near(t) for t in wanted]
        assert [bool(own & e) for e in explained] == [
            bool(own & whole.typos.near(t)) for t in wanted
        ]
        assert [bool(own & e) for e in explained] == [
            bool(own & _compared_with_each(t, set(own))) for t in wanted
        ]
