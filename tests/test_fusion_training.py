"""Learned fusion, calibration and thresholds, trained on a small history."""

from __future__ import annotations

import json

import numpy as np
import pytest

from indexer.fusion_training import (
    DecisionFit,
    TopAnswers,
    choose_accept_threshold,
    choose_nomatch_cut,
    cross_fitted,
    fit_fusion,
    flagging_at_most,
)
from indexer.head_training import fit_head
from indexer.metrics import expected_calibration_error
from matcher.app import build_matcher
from matcher.catalog import Part
from matcher.config import Settings
from matcher.decision import Decision, DecisionPolicy
from matcher.encoder import Encoder
from matcher.engine import Matcher
from matcher.examples import Example
from matcher.fusion import (
    NOMATCH_FEATURES,
    SIGNALS,
    LearnedFusion,
    feature_rows,
    nomatch_features,
)
from matcher.fusion_file import load_fusion
from matcher.signals.lexical import BM25Signal

PHRASES = (
    "need {}",
    "do you have {} in stock",
    "price for {} please",
    "{} for a 2012 golf",
    "looking for {} asap",
    "hi, {} for my car",
)
NO_PART = (
    "where is my order",
    "do you sell gift cards",
    "what time do you open",
    "can i return an item",
    "how long is delivery",
    "is there a discount code",
    "are you open on sunday",
    "i want a refund",
    "where are you based",
    "can i pay by card",
)


# Held out of both history and valid: sentence frames, lay descriptions of each part and
# texts naming no part that fitting never saw, so that the checks on them can fail.
HELD_OUT_PHRASES = ("got any {} ?", "{} wanted", "can i order {} today", "quote for {} pls")
LAY_NAMES = {
    "BRK-F": "pads for the front wheels",
    "BRK-R": "pads for the back wheels",
    "BRK-D": "disc at the front",
    "ALT": "thing that charges the battery",
    "HOOD-L": "lock that holds the bonnet shut",
    "STEER": "wheel you turn to steer",
    "WIPER": "blade that cleans the windscreen",
    "TYRE": "new tyre 205 55 16",
    "MUFF": "back box of the exhaust",
    "BATT": "new battery",
    "OILF": "filter for the engine oil",
    "SPARK": "ignition plugs",
}
HELD_OUT_NO_PART = (
    "has my parcel shipped",
    "do you deliver to ireland",
    "what is your phone number",
    "can i change my delivery address",
    "is the shop open today",
    "how do i cancel my order",
    "do you do trade accounts",
    "my invoice is wrong",
)


def history_for(parts: list[Part]) -> tuple[list[Example], list[Example]]:
    history, valid = [], []
    for part in parts:
        for i, phrase in enumerate(PHRASES):
            target = valid if i % 3 == 2 else history
            target.append(Example(phrase.format(part.names()[i % len(part.names())]), part.sku))
    for i, text in enumerate(NO_PART):
        (valid if i % 3 == 2 else history).append(Example(text, None))
    return history, valid


def held_out_for(parts: list[Part]) -> list[Example]:
    """Texts in none of history_for's frames: two names and the lay name of each part, and
    texts naming no part (about 40: each Match costs an encoding)."""
    held: list[Example] = []
    for i, part in enumerate(parts):
        names = [*part.names()[:2], LAY_NAMES[part.sku]]
        for j, name in enumerate(names):
            phrase = HELD_OUT_PHRASES[(i + j) % len(HELD_OUT_PHRASES)]
            held.append(Example(phrase.format(name), part.sku))
    return held + [Example(text, None) for text in HELD_OUT_NO_PART]


def test_accept_threshold_needs_the_target_with_confidence() -> None:
    # n answers all right: the 90% lower bound of their precision is 0.1 ** (1 / n), 0.63 for
    # five: five right answers do not show a precision of 0.9.
    assert choose_accept_threshold(np.full(5, 0.9), np.ones(5, bool), 0.9) == 1.0
    # Fifty: 0.955, enough.
    confidence = np.r_[np.full(50, 0.95), np.full(50, 0.8)]
    right = np.ones(100, bool)
    assert choose_accept_threshold(confidence, right, 0.9) == pytest.approx(0.8)
    # Accepting at 0.8 with 5 of the 100 wrong: bound 0.909, still enough; with 6 wrong the
    # bound is 0.897 (the point estimate, 0.94, would pass), so only the top fifty are.
    five_wrong = right.copy()
    five_wrong[95:] = False
    assert choose_accept_threshold(confidence, five_wrong, 0.9) == pytest.approx(0.8)
    six_wrong = right.copy()
    six_wrong[94:] = False
    assert choose_accept_threshold(confidence, six_wrong, 0.9) == pytest.approx(0.95)
    assert choose_accept_threshold(confidence, ~right, 0.5) == 1.0  # never reached


def served(
    settings: Settings,
    encoder: Encoder,
    parts: list[Part],
    history: list[Example],
    fusion: LearnedFusion,
    policy: DecisionPolicy,
) -> Matcher:
    """A matcher as a model version is served: with a classification head fitted on history
    (the fusion was fitted with the classifier's features)."""
    head = fit_head(encoder.encode([e.text for e in history]), [e.sku for e in history])
    return build_matcher(
        settings,
        parts,
        history,
        encoder=encoder,
        lexical=BM25Signal(),
        head=head,
        fusion=fusion,
        policy=policy,
    )


def test_the_no_part_model_sees_what_the_best_candidate_contradicts() -> None:
    # "taillight right corolla 2015": the left one is the closest part, and it contradicts the
    # side; the right one, scored lower, contradicts nothing.
    skus, matrix, query = feature_rows(
        {
            "LEFT": {"lexical": 0.9, "attr_agree": 2.0, "attr_conflict": 1.0},
            "RIGHT": {"lexical": 0.6, "attr_agree": 3.0},
        }
    )
    assert skus == ["LEFT", "RIGHT"]
    conflict = NOMATCH_FEATURES.index("top_conflict")
    assert nomatch_features(np.asarray([0.8, 0.3]), matrix, query)[conflict] == 1.0
    assert nomatch_features(np.asarray([0.3, 0.8]), matrix, query)[conflict] == 0.0
    # A model fitted before the feature existed reads only the names it was fitted on.
    assert len(nomatch_features(np.asarray([0.8, 0.3]), matrix, query, ("top_p",))) == 1


def test_nomatch_cut_by_hand() -> None:
    p = np.asarray([0.9, 0.8, 0.7, 0.6, 0.5, 0.1])
    nopart = np.asarray([True, True, False, True, True, False])
    # The lowest cut at 90% precision is 0.8 (2 of 2); lower cuts fall to 75% and 80%.
    assert choose_nomatch_cut(p, nopart) == pytest.approx(0.8)
    # Where no cut reaches 90%, the best F1: 0.5 (4 of 5 flagged are right, all 4 found).
    assert choose_nomatch_cut(p, ~nopart | (p == 0.5)) == pytest.approx(0.1)
    assert choose_nomatch_cut(p, np.zeros(6, dtype=bool)) > 1.0  # nothing to learn from


def test_cross_fitting_grades_each_half_with_a_fit_on_the_other() -> None:
    # First half: its no-part texts score P(no part) 0.9; second half: 0.3. Part-naming texts
    # score 0.1 and their top answers are right.
    p = np.asarray([0.9, 0.9, 0.1, 0.1, 0.3, 0.3, 0.1, 0.1])
    nopart = np.asarray([True, True, False, False] * 2)
    answers = TopAnswers(
        confidence=np.where(nopart, 0.2, 0.8),
        correct=~nopart,
        nomatch_p=p,
        nopart=nopart,
        held=np.zeros(8, dtype=bool),
    )
    first = np.asarray([True] * 4 + [False] * 4)
    fit = DecisionFit(target_precision=0.9)
    # Deployed: fitted on all eight, the cut catches every no-part text.
    assert fit(answers)[1].nomatch_cut == pytest.approx(0.3)
    figures = cross_fitted(answers, first, fit)
    # The second half is graded with the first half's cut (0.9), which misses its no-part
    # texts; the first with the second's (0.3), which catches them. A half graded by its own
    # fit would catch all four.
    assert figures["nomatch_recall"] == pytest.approx(0.5)
    assert figures["acc@1"] == pytest.approx(6 / 8)
    assert cross_fitted(answers, None, fit)["nomatch_recall"] == pytest.approx(1.0)
    # Without a no-part model nothing is NO_MATCH, whatever the probabilities say.
    assert cross_fitted(answers, first, DecisionFit(0.9, learned_no_part=False))[
        "nomatch_recall"
    ] == pytest.approx(0.0)


def test_where_valid_names_parts_only_the_fallback_cut_flags_none_of_them() -> None:
    # Out-of-fold rows suggested a cut of 0.3; valid's 200 texts all name a part, and 140 of
    # them would be NO_MATCH at that cut.
    p = np.linspace(0.0, 0.9, 200)
    named = np.zeros(200, dtype=bool)
    answers = TopAnswers(np.full(200, 0.8), ~named, p, named, named)
    cut = DecisionFit(0.9, fallback_cut=0.3)(answers)[1].nomatch_cut
    assert 0.9 < cut < 0.901 and not (p >= cut).any()
    assert flagging_at_most(p, 0.01) == pytest.approx(p[-3], abs=1e-9)  # two flagged
    # A fallback stricter than that bound stays as it is.
    assert DecisionFit(0.9, fallback_cut=1.01)(answers)[1].nomatch_cut == pytest.approx(1.01)


def test_without_a_single_no_part_text_the_no_part_model_learns_from_hidden_parts(
    settings: Settings, encoder: Encoder, parts: list[Part]
) -> None:
    history, valid = history_for(parts)
    history = [e for e in history if e.sku is not None]
    valid = [e for e in valid if e.sku is not None]
    report = fit_fusion(
        settings, encoder, parts, history, valid, folds=3, lexical=BM25Signal, progress=False
    )
    assert report.fusion.nomatch is not None
    # Valid has no no-part text: the cut comes from the out-of-fold rows, and is a real cut.
    assert report.policy.nomatch_cut <= 1.0


def test_fit_fusion_learns_ranking_calibration_and_no_part(
    settings: Settings, encoder: Encoder, parts: list[Part], tmp_path: object
) -> None:
    history, valid = history_for(parts)
    # A precision valid's few texts can show (the accept threshold must reach it with 90%
    # confidence: 0.98 would take 114 right answers in a row).
    report = fit_fusion(
        settings,
        encoder,
        parts,
        history,
        valid,
        folds=3,
        lexical=BM25Signal,
        progress=False,
        target_precision=0.8,
    )
    # valid's frames are not in history, and calibration does not reorder: a ranking figure.
    assert report.metrics["acc@1"] is not None and report.metrics["acc@1"] >= 0.8
    assert report.fusion.nomatch is not None  # the history has texts that name no part
    # No checks of what the fitting guarantees on the texts it was fitted to (isotonic knots
    # are monotone and in [0, 1], ECE on the calibration texts is ~0, the no-part cut catches
    # a valid no-part text): they cannot fail. What the model does on held-out texts can.

    # What the trainer writes is what the server loads; served as a model version is, with a
    # classification head (the fusion was fitted with the classifier's features).
    path = tmp_path / "fusion.json"  # type: ignore[operator]
    path.write_text(json.dumps(report.config))
    fusion, policy = load_fusion(path)
    assert policy == report.policy
    matcher = served(settings, encoder, parts, history, fusion, policy)
    held = held_out_for(parts)
    answers = [matcher.match(e.text, top_k=1) for e in held]
    matcher.close()
    confidence = np.asarray([a.candidates[0].confidence for a in answers])
    correct = np.asarray([a.candidates[0].sku == e.sku for a, e in zip(answers, held, strict=True)])
    nopart = np.asarray([e.sku is None for e in held])
    nomatch_p = np.asarray([a.nomatch_probability for a in answers])
    decisions = np.asarray([a.decision for a in answers])

    # Ranking of unseen phrasings and lay names (measured: 29 of 31 right).
    assert correct[~nopart].mean() >= 0.8
    # Calibration on texts it was not fitted to (measured ECE 0.035): fails when the
    # confidences are off, e.g. a no-part text's wrong top answer said to be likely right, or
    # calibration overfitted to valid's few knots. Coarse bins, as 39 texts allow.
    ece = expected_calibration_error(confidence, correct)
    assert ece is not None and ece < 0.1, ece
    sure, unsure = confidence >= 0.9, confidence < 0.5
    assert sure.sum() >= 15 and correct[sure].mean() >= 0.9
    assert unsure.sum() >= 5 and correct[unsure].mean() <= 0.5
    accepted = decisions == Decision.AUTO_ACCEPT
    assert accepted.any() and correct[accepted].mean() >= 0.9
    # The no-part model on texts naming no part that it never saw: every one is more likely
    # "no part" than any part text (measured 0.90+ against at most 0.44), and the cut chosen on
    # valid's three no-part texts flags most of them (measured 8 of 8) and no part text.
    assert nomatch_p[nopart].min() > nomatch_p[~nopart].max()
    assert (decisions[nopart] == Decision.NO_MATCH).mean() >= 0.75
    assert not (decisions[~nopart] == Decision.NO_MATCH).any()


def test_parts_without_history_are_found_at_least_as_well_as_by_the_best_signal(
    settings: Settings, encoder: Encoder, parts: list[Part]
) -> None:
    # Half the catalog has no labelled text at all, as most of a real catalog has not.
    unseen = {"BRK-R", "ALT", "WIPER", "MUFF", "OILF", "SPARK"}
    history, valid = history_for(parts)
    history = [e for e in history if e.sku not in unseen]
    valid = [e for e in valid if e.sku not in unseen]
    report = fit_fusion(
        settings, encoder, parts, history, valid, folds=3, lexical=BM25Signal, progress=False
    )
    matcher = served(settings, encoder, parts, history, report.fusion, report.policy)
    held = [e for e in held_out_for(parts) if e.sku in unseen]
    found: dict[str, list[list[str]]] = {}
    for example in held:
        answer = matcher.match(example.text, top_k=3)
        found.setdefault("service", []).append([c.sku for c in answer.candidates])
        hits, _ = matcher.hits(example.text)
        for signal in SIGNALS:
            ranked = sorted(hits.get(signal, []), key=lambda h: -h.score)
            found.setdefault(signal, []).append([h.sku for h in ranked[:3]])
    matcher.close()

    def recall(name: str, k: int) -> float:
        return float(np.mean([e.sku in top[:k] for e, top in zip(held, found[name], strict=True)]))

    for k in (1, 3):
        best = max(SIGNALS, key=lambda s: recall(s, k))
        assert recall("service", k) >= recall(best, k), (k, best, recall(best, k), found)
