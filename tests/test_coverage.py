"""How much of a request a candidate explains: the no-part model's evidence that the catalog
does not carry what was asked for."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from matcher.app import build_matcher
from matcher.catalog import make_part
from matcher.catalog_view import CatalogViewBuilder
from matcher.catalog_view.typo_index import TypoIndex
from matcher.config import Settings
from matcher.coverage import content_terms, explained_share
from matcher.decision import Decision, DecisionPolicy
from matcher.encoder import Encoder
from matcher.examples import Example


def explainers(wanted: list[str], words: AbstractSet[str]) -> list[frozenset[str]]:
    """Each wanted word's explainers among `words`, as a request finds them in the catalog's."""
    index = TypoIndex.build(words)
    return [index.near(term) for term in wanted]


def coverage(wanted: list[str], own: AbstractSet[str]) -> float:
    return explained_share(explainers(wanted, own), own)


def test_a_product_the_catalog_lacks_is_explained_only_in_part() -> None:
    chains = content_terms("do you sell snow chains for 205/55r16")
    assert chains == ["sell", "snow", "chain"]
    tyre_words = {"tyre", "all", "season", "sell"}
    assert coverage(chains, tyre_words) == 1 / 3
    # A typo still counts as the word; a request with no content word is not held against.
    assert coverage(content_terms("tyer"), tyre_words) == 1.0
    assert coverage([], tyre_words) == 1.0


def test_explainers_are_found_once_for_every_candidate_of_a_request() -> None:
    # A word long enough for a typo is explained by each word one edit away (a transposition
    # included); a shorter one only by itself.
    words = {"tyre", "tyres", "tire", "sell", "seal", "interior", "exterior", "cab"}
    assert explainers(["tyer", "cat", "interior"], words) == [
        frozenset({"tyer", "tyre"}),
        frozenset({"cat"}),
        frozenset({"interior"}),
    ]
    wanted = ["tyer", "sel", "snow"]
    explaining = explainers(wanted, words)
    for own in ({"tyre", "sell"}, {"tire"}, {"sel", "snow"}, set()):
        assert explained_share(explaining, own) == coverage(wanted, own)
    assert explained_share(explaining, {"tyre", "sel"}) == 2 / 3
    assert explained_share([], set()) == 1.0


def test_parts_own_words_include_their_history_and_filler_is_learned() -> None:
    parts = [
        make_part(sku=f"P{i}", name=name)
        for i, name in enumerate(("Alternator", "Starter Motor", "Radiator", "Wiper Blade"))
    ]
    history = [
        Example("price for an alternator asap", "P0"),
        Example("car won't crank, price asap", "P1"),
        Example("radiator price asap", "P2"),
        Example("wiper price", "P3"),
    ]
    view = CatalogViewBuilder().build(parts, history)
    assert {"price", "asap"} <= view.common_terms
    assert "crank" in view.own_terms["P1"] and "crank" not in view.own_terms["P0"]
    wanted = content_terms("engine won't crank, price please", view.common_terms)
    assert wanted == ["engine", "won", "crank"]
    assert coverage(wanted, view.own_terms["P1"]) > coverage(wanted, view.own_terms["P0"])


def test_a_related_part_that_leaves_the_request_unexplained_is_never_auto_accepted(
    settings: Settings, encoder: Encoder
) -> None:
    parts = [
        make_part(sku="TYRE", name="Tyre 205/55R16", description="All-season passenger tyre."),
        make_part(sku="CHAIN", name="Timing Chain Kit", description="Chain, guides, tensioner."),
        make_part(sku="FLT", name="Cabin Air Filter", aliases=("pollen filter",)),
    ]
    matcher = build_matcher(settings, parts, [], encoder=encoder)
    # Accept anything: only the hold can keep an answer from AUTO_ACCEPT.
    matcher.policy = DecisionPolicy(accept_threshold=0.0, nomatch_threshold=0.0)
    assert matcher.match("tyre 205/55r16", top_k=1).decision is Decision.AUTO_ACCEPT
    chains = matcher.match("snow chains for 205/55r16", top_k=1)
    assert chains.candidates[0].sku == "TYRE"  # the size matches: offered, not used
    assert chains.decision is Decision.NEEDS_REVIEW
    assert matcher.match("pollen filter", top_k=1).decision is Decision.AUTO_ACCEPT
    assert matcher.match("oil filter", top_k=1).decision is Decision.NEEDS_REVIEW
