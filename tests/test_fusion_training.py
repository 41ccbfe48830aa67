"""Learned fusion, calibration and thresholds, trained on a small history."""

from __future__ import annotations

import json

import numpy as np
import pytest

from indexer.fusion_training import choose_accept_threshold, fit_fusion
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


def history_for(parts: list[Part]) -> tuple[list[Example], list[Example]]:
    history, valid = [], []
    for part in parts:
        for i, phrase in enumerate(PHRASES):
            target = valid if i % 3 == 2 else history
            target.append(Example(phrase.format(part.names()[i % len(part.names())]), part.sku))
    for i, text in enumerate(NO_PART):
        (valid if i % 3 == 2 else history).append(Example(text, None))
    return history, valid


def test_accept_threshold_by_hand() -> None:
    confidence = np.asarray([0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.asarray([True, True, True, False, True])
    assert choose_accept_threshold(confidence, correct, 0.99) == pytest.approx(0.8)
    assert choose_accept_threshold(confidence, correct, 0.75) == pytest.approx(0.6)
    assert choose_accept_threshold(confidence, ~correct, 0.5) == 1.0  # never reached


def test_fit_fusion_learns_ranking_calibration_and_no_part(
    settings: Settings, encoder: Encoder, parts: list[Part], tmp_path: object
) -> None:
    history, valid = history_for(parts)
    report = fit_fusion(
        settings, encoder, parts, history, valid, folds=3, lexical=BM25Signal, progress=False
    )
    assert report.metrics["acc@1"] is not None and report.metrics["acc@1"] >= 0.8
    assert report.fusion.nomatch is not None  # the history has texts that name no part
    assert report.metrics["nomatch_recall"] is not None and report.metrics["nomatch_recall"] > 0
    assert 0.0 <= report.policy.accept_threshold <= 1.0
    ece = report.metrics["ece"]
    assert ece is not None and ece < 0.2
    # Calibrated confidences stay probabilities, monotone in the raw score.
    assert np.all(np.diff(report.fusion.calibration.y) >= 0)
    assert report.fusion.calibration.y.min() >= 0 and report.fusion.calibration.y.max() <= 1

    # What the trainer writes is what the server loads.
    path = tmp_path / "fusion.json"  # type: ignore[operator]
    path.write_text(json.dumps(report.config))
    fusion, policy = load_fusion(path)
    assert policy == report.policy
    matcher = build_matcher(
        settings,
        parts,
        history,
        encoder=encoder,
        lexical=BM25Signal(),
        fusion=fusion,
        policy=policy,
    )
    answer = matcher.match("do you have a silencer in stock")
    assert answer.candidates[0].sku == "MUFF"
    assert matcher.match("do you sell gift cards").decision is Decision.NO_MATCH
