"""The check of a request's candidates: checked in steps, as the signals propose them, it gives
the hits of one check over all of them, and a Match checks the candidates of the signals that
need no vector before it waits for its query's vector."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest

from matcher.app import build_matcher
from matcher.candidate_check import CandidateCheck
from matcher.catalog_view import CatalogView, CatalogViewBuilder
from matcher.config import Settings
from matcher.encoder import Encoder
from matcher.examples import Example
from matcher.query import Query
from matcher.signals.base import Hit
from matcher.signals.semantic import SemanticSignal
from tests.test_attributes import CATALOG

HISTORY = [
    Example("front pads for the golf", "PAD-GF"),
    Example("windscreen wiper 24", "WIP-24"),
]


def _hits(skus: Iterable[str]) -> list[Hit]:
    return [Hit(sku, 0.0) for sku in skus]


def test_candidates_checked_in_steps_get_the_hits_of_one_check() -> None:
    view = CatalogViewBuilder().build(CATALOG, HISTORY)
    # "frnt" and "wipr" are typos that only some candidates' words explain ("front", "wiper");
    # "rigth" and "golf 2015" state a side, a model and a year.
    query = Query.parse("frnt brake pad rigth golf 2015 wipr")
    skus = [part.sku for part in CATALOG]
    first = [s for s in skus if s.startswith(("PAD", "MIR"))]
    rest = [s for s in skus if s not in first]

    whole = CandidateCheck(view, query)
    whole.add([_hits(skus)])
    steps = CandidateCheck(view, query)
    steps.add([_hits(first)])
    steps.add([_hits(rest), _hits(first[:2])])

    assert steps.hits() == whole.hits()
    assert steps.marks == whole.marks
    features = {hit.sku: hit.features for hit in whole.hits()}
    assert set(features) == set(skus)
    # What the check sees: the left mirror conflicts with "rigth", the front pads explain
    # "frnt" through "front", which the second step's candidates do not have.
    assert features["MIR-GL"]["attr_conflict"] >= 1
    assert features["MIR-GR"]["attr_conflict"] == 0
    assert features["PAD-GF"]["coverage"] > features["OIL-5"]["coverage"]


def test_a_match_checks_the_candidates_of_the_signals_that_need_no_vector_before_it_waits(
    settings: Settings, encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, int]] = []
    add, search = CandidateCheck.add, SemanticSignal.search

    def recorded_add(check: CandidateCheck, hits: Iterable[Sequence[Hit]]) -> None:
        hits = list(hits)
        events.append(("check", len({h.sku for signal_hits in hits for h in signal_hits})))
        add(check, hits)

    def recorded_search(
        signal: SemanticSignal, view: CatalogView, query: Query, k: int
    ) -> list[Hit]:
        events.append(("semantic", 0))
        return search(signal, view, query, k)

    matcher = build_matcher(settings, CATALOG, HISTORY, encoder=encoder)
    monkeypatch.setattr(CandidateCheck, "add", recorded_add)
    monkeypatch.setattr(SemanticSignal, "search", recorded_search)
    text = "early check: front brake pads for a 2015 golf"
    try:
        answer = matcher.match(text)
        first = list(events)
        events.clear()
        again = matcher.match(text)
    finally:
        matcher.close()
    # The lexical, fuzzy and code signals' candidates first, then the vector signals', once.
    assert [name for name, _ in first] == ["check", "semantic", "check"]
    assert first[0][1] > 0
    # The second time the vector is known: nothing to wait for, one check of all.
    assert [name for name, _ in events] == ["semantic", "check"]
    assert answer.candidates[0].sku == again.candidates[0].sku == "PAD-GF"
    assert answer.candidates == again.candidates
