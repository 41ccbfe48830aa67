"""The matcher as a whole: fusion of the signals, decisions, catalog changes, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.app import build_matcher
from matcher.catalog import Part, make_part
from matcher.config import Settings
from matcher.decision import Decision, DecisionPolicy
from matcher.encoder import Encoder
from matcher.engine import BatchItem, Matcher, MatchInputError
from matcher.examples import Example
from matcher.fusion import (
    FEATURES,
    Calibration,
    LearnedFusion,
    Linear,
    WeightedFusion,
    candidate_features,
    signal_scores,
)
from matcher.ranking import Ranked, Ranking
from matcher.signals.base import Hit


@pytest.fixture
def matcher(
    settings: Settings, encoder: Encoder, parts: list[Part], history: list[Example]
) -> Matcher:
    return build_matcher(settings, parts, history, encoder=encoder)


@pytest.mark.parametrize(
    ("text", "sku"),
    [
        ("rear brake pads for a 2012 golf", "BRK-R"),
        ("the round thing you steer with", "STEER"),
        ("alternater", "ALT"),
        ("bonnet latch", "HOOD-L"),
        ("04465-33471", "BRK-F"),
        ("tyre 205 55 r16", "TYRE"),
    ],
)
def test_fused_answers(matcher: Matcher, text: str, sku: str) -> None:
    result = matcher.match(text, top_k=3)
    assert result.candidates[0].sku == sku
    assert len(result.candidates) == 3
    confidences = [c.confidence for c in result.candidates]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert set(result.candidates[0].signals) <= {"lexical", "fuzzy", "code", "semantic"}
    assert result.request_id and result.model_version.startswith("base-")


def test_a_batch_is_answered_in_its_order_as_each_text_alone(matcher: Matcher) -> None:
    items = [
        BatchItem("rear brake pads for a 2012 golf", 3),
        BatchItem("alternater"),
        BatchItem("left mirror", 2, "vw golf 2014"),
        *(BatchItem(f"batch text {i}: bonnet latch") for i in range(20)),
    ]
    batch = matcher.match_batch(items)
    alone = [matcher.match(item.text, item.top_k, vehicle=item.vehicle) for item in items]
    assert [r.text for r in batch] == [item.text for item in items]
    assert [r.vehicle for r in batch] == [item.vehicle for item in items]
    for got, expected in zip(batch, alone, strict=True):
        assert got.candidates == expected.candidates and got.decision == expected.decision


def test_a_failure_while_a_batch_is_matched_fails_the_whole_batch(matcher: Matcher) -> None:
    calls = 0

    def deadline() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise TimeoutError("deadline passed")

    with pytest.raises(TimeoutError, match="deadline passed"):
        matcher.match_batch([BatchItem(f"failing batch {i}") for i in range(40)], deadline)


def test_part_number_is_accepted_automatically(matcher: Matcher) -> None:
    assert matcher.match("04465-33471").decision is Decision.AUTO_ACCEPT


def test_text_naming_no_part(matcher: Matcher) -> None:
    assert matcher.match("do you sell gift cards").decision is not Decision.AUTO_ACCEPT


def test_weighted_fusion_prefers_agreement() -> None:
    hits = {
        "lexical": [Hit("A", 0.9), Hit("B", 0.8)],
        "fuzzy": [Hit("B", 0.9)],
        "semantic": [Hit("B", 0.7), Hit("A", 0.2)],
    }
    ranked = WeightedFusion().rank(hits).candidates
    assert [r.sku for r in ranked] == ["B", "A"]
    assert signal_scores(ranked[0].features) == {"lexical": 0.8, "fuzzy": 0.9, "semantic": 0.7}
    features = candidate_features(hits)
    assert features["A"]["lexical_rr"] == 1.0 and features["B"]["lexical_rr"] == 0.5


def test_learned_fusion_uses_its_coefficients_and_calibration() -> None:
    coef = np.zeros(len(FEATURES))
    coef[FEATURES.index("fuzzy")] = 10.0
    fusion = LearnedFusion(
        scorer=Linear(FEATURES, coef, -5.0),
        calibration=Calibration(np.asarray([0.0, 1.0]), np.asarray([0.0, 0.5])),
    )
    ranked = fusion.rank({"lexical": [Hit("A", 1.0)], "fuzzy": [Hit("B", 1.0)]}).candidates
    assert [r.sku for r in ranked] == ["B", "A"]
    raw_b = 1 / (1 + np.exp(-5.0))
    raw_a = 1 / (1 + np.exp(5.0))
    assert ranked[0].confidence == pytest.approx(0.5 * raw_b / max(1.0, raw_a + raw_b))


def test_candidates_on_one_calibration_step_keep_the_order_of_their_scores() -> None:
    coef = np.zeros(len(FEATURES))
    coef[FEATURES.index("lexical")] = 4.0
    # A flat calibration (every answer in valid was right) maps all candidates to 1.0.
    fusion = LearnedFusion(
        scorer=Linear(FEATURES, coef, -2.0),
        calibration=Calibration(np.asarray([0.0, 1.0]), np.asarray([1.0, 1.0])),
    )
    hits = {"lexical": [Hit("Z", 0.9), Hit("M", 0.5), Hit("A", 0.1)]}
    ranked = fusion.rank(hits).candidates
    assert [r.confidence for r in ranked] == [1.0, 1.0, 1.0]
    assert [r.sku for r in ranked] == ["Z", "M", "A"]  # not alphabetical


def test_decision_policy() -> None:
    policy = DecisionPolicy(accept_threshold=0.8, nomatch_threshold=0.3, nomatch_cut=0.5)
    assert policy.decide(Ranking([Ranked("A", 0.85, {})])) is Decision.AUTO_ACCEPT
    assert policy.decide(Ranking([Ranked("A", 0.5, {})])) is Decision.NEEDS_REVIEW
    assert policy.decide(Ranking([Ranked("A", 0.1, {})])) is Decision.NO_MATCH
    assert policy.decide(Ranking([Ranked("A", 0.95, {})], 0.7)) is Decision.NO_MATCH
    assert policy.decide(Ranking([])) is Decision.NO_MATCH
    with pytest.raises(ValueError, match="nomatch_threshold <= accept_threshold"):
        DecisionPolicy(accept_threshold=0.2, nomatch_threshold=0.5)


def test_upsert_is_matchable_at_once_and_retire_hides(matcher: Matcher) -> None:
    text = "turbocharger for a 2015 golf"
    assert matcher.match(text).candidates[0].sku != "TURBO"
    matcher.upsert([make_part(sku="TURBO", name="turbocharger", aliases=["turbo"])])
    assert matcher.match(text).candidates[0].sku == "TURBO"
    matcher.retire(["TURBO", "BRK-R"])
    for probe in (text, "rear brake pads"):
        assert all(c.sku not in {"TURBO", "BRK-R"} for c in matcher.match(probe, 50).candidates)


def test_upsert_replaces_a_part(matcher: Matcher) -> None:
    matcher.upsert([make_part(sku="ALT", name="generator unit")])
    assert matcher.match("generator unit").candidates[0].name == "generator unit"


@pytest.mark.parametrize(
    ("text", "top_k", "message"),
    [
        ("", 5, "text must not be empty"),
        ("   \n\t", 5, "text must not be empty"),
        ("x" * 1001, 5, "text is 1001 characters; the limit is 1000"),
        ("brake pads", -1, "top_k must be between 0 and 50, got -1"),
        ("brake pads", 51, "top_k must be between 0 and 50, got 51"),
        ("\x00\x01", 5, "control character U\\+0000"),
        ("pads \u202e", 5, "control character U\\+202E"),
    ],
)
def test_bad_input_is_refused(matcher: Matcher, text: str, top_k: int, message: str) -> None:
    with pytest.raises(MatchInputError, match=message):
        matcher.match(text, top_k)


def test_top_k_zero_means_default(matcher: Matcher) -> None:
    assert len(matcher.match("brake", 0).candidates) == matcher.limits.default_top_k


@pytest.mark.parametrize(
    "text",
    [
        "🙂🙂🙂",
        "pads\r\nfor a golf\t",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "%s%n",
        "ß" * 999,
    ],
)
def test_odd_text_never_crashes(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert result.decision in set(Decision)
