"""Learned fusion, calibration and thresholds, trained on a small history."""

from __future__ import annotations

import json

import numpy as np
import pytest

from indexer.fusion_training import choose_accept_threshold, choose_nomatch_cut, fit_fusion
from indexer.head_training import fit_head
from indexer.metrics import expected_calibration_error
from matcher.app import build_matcher
from matcher.catalog import Part
from matcher.config import Settings
from matcher.decision import Decision
from matcher.encoder import Encoder
from matcher.examples import Example
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


def test_accept_threshold_by_hand() -> None:
    confidence = np.asarray([0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.asarray([True, True, True, False, True])
    assert choose_accept_threshold(confidence, correct, 0.99) == pytest.approx(0.8)
    assert choose_accept_threshold(confidence, correct, 0.75) == pytest.approx(0.6)
    assert choose_accept_threshold(confidence, ~correct, 0.5) == 1.0  # never reached


def test_nomatch_cut_by_hand() -> None:
    p = np.asarray([0.9, 0.8, 0.7, 0.6, 0.5, 0.1])
    nopart = np.asarray([True, True, False, True, True, False])
    # The lowest cut at 90% precision is 0.8 (2 of 2); lower cuts fall to 75% and 80%.
    assert choose_nomatch_cut(p, nopart) == pytest.approx(0.8)
    # Where no cut reaches 90%, the best F1: 0.5 (4 of 5 flagged are right, all 4 found).
    assert choose_nomatch_cut(p, ~nopart | (p == 0.5)) == pytest.approx(0.1)
    assert choose_nomatch_cut(p, np.zeros(6, dtype=bool)) > 1.0  # nothing to learn from


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
    report = fit_fusion(
        settings, encoder, parts, history, valid, folds=3, lexical=BM25Signal, progress=False
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
    head = fit_head(encoder.encode([e.text for e in history]), [e.sku for e in history])
    matcher = build_matcher(
        settings,
        parts,
        history,
        encoder=encoder,
        lexical=BM25Signal(),
        head=head,
        fusion=fusion,
        policy=policy,
    )
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
