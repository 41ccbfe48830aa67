"""Evaluation metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from eval.results import Run, metrics
from eval.systems import Answer
from indexer.metrics import (
    ConfidenceBin,
    automation_at_precision,
    confidence_bins,
    coverage_precision_curve,
    expected_calibration_error,
    mean_reciprocal_rank,
    recall_at,
    top1_accuracy,
)

RANKED = [["A", "B"], ["B", "A"], ["C", "A", "B"], []]
GOLD: list[str | None] = ["A", "A", "B", None]


def approx4(value: float) -> object:
    """Run metrics are rounded to 4 decimals for the report."""
    return pytest.approx(value, abs=1e-4)


def test_ranking_metrics_by_hand() -> None:
    # Right first: text 1 only; text 4 names no part and nothing is ranked: right too.
    assert top1_accuracy(RANKED, GOLD) == pytest.approx(2 / 4)
    # Texts naming a part: 3. In the first 1: text 1; in the first 2: texts 1, 2.
    assert recall_at(RANKED, GOLD, 1) == pytest.approx(1 / 3)
    assert recall_at(RANKED, GOLD, 2) == pytest.approx(2 / 3)
    assert recall_at(RANKED, GOLD, 5) == pytest.approx(3 / 3)
    # Reciprocal ranks 1, 1/2, 1/3.
    assert mean_reciprocal_rank(RANKED, GOLD) == pytest.approx((1 + 0.5 + 1 / 3) / 3)
    assert recall_at([[]], [None], 5) is None


def test_coverage_precision_and_automation_by_hand() -> None:
    confidence = np.asarray([0.9, 0.8, 0.8, 0.4, 0.2])
    correct = np.asarray([True, True, False, True, False])
    coverage, precision, thresholds = coverage_precision_curve(confidence, correct)
    # Ties at 0.8 are accepted together: the cuts are 0.9, 0.8, 0.4, 0.2.
    assert thresholds.tolist() == [0.9, 0.8, 0.4, 0.2]
    assert coverage.tolist() == pytest.approx([1 / 5, 3 / 5, 4 / 5, 5 / 5])
    assert precision.tolist() == pytest.approx([1, 2 / 3, 3 / 4, 3 / 5])
    assert automation_at_precision(confidence, correct, 0.99) == pytest.approx(0.2)
    assert automation_at_precision(confidence, correct, 0.75) == pytest.approx(0.8)
    assert automation_at_precision(confidence, ~correct, 0.99) == 0.0


def test_expected_calibration_error_by_hand() -> None:
    # Bin [0.9, 1]: confidences 0.95, 0.95, accuracy 1/2 -> gap 0.45, weight 2/4.
    # Bin [0.1, 0.2): confidences 0.15, 0.15, accuracy 0 -> gap 0.15, weight 2/4.
    confidence = np.asarray([0.95, 0.95, 0.15, 0.15])
    correct = np.asarray([True, False, False, False])
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.5 * 0.45 + 0.5 * 0.15)
    perfect = expected_calibration_error(np.asarray([1.0, 0.0]), np.asarray([True, False]))
    assert perfect == pytest.approx(0.0)


def test_confidence_bins_and_ece_from_them_by_hand() -> None:
    # Ten bins of width 0.1. 0.05 -> bin 0; 0.1 and 0.15 -> bin 1 (an edge opens its bin);
    # 0.5 -> bin 5; 0.9 and 1.0 -> bin 9 (1.0 belongs to the last bin).
    confidence = np.asarray([0.05, 0.1, 0.15, 0.5, 0.9, 1.0])
    correct = np.asarray([False, True, False, True, True, False])
    bins = confidence_bins(confidence, correct)
    assert [b.count for b in bins] == [1, 2, 1, 2]
    assert bins[0] == ConfidenceBin(confidence=0.05, accuracy=0.0, count=1)
    assert bins[1].confidence == pytest.approx(0.125) and bins[1].accuracy == 0.5
    assert bins[2] == ConfidenceBin(confidence=0.5, accuracy=1.0, count=1)
    assert bins[3].confidence == pytest.approx(0.95) and bins[3].accuracy == 0.5
    # ECE: 1/6*|0-0.05| + 2/6*|0.5-0.125| + 1/6*|1-0.5| + 2/6*|0.5-0.95|
    by_hand = (0.05 + 2 * 0.375 + 0.5 + 2 * 0.45) / 6
    assert expected_calibration_error(confidence, correct) == pytest.approx(by_hand)
    # Five bins of width 0.2 regroup them: 0.05, 0.1, 0.15 | 0.5 | 0.9, 1.0.
    assert [b.count for b in confidence_bins(confidence, correct, bins=5)] == [3, 1, 2]
    assert confidence_bins(np.zeros(0), np.zeros(0, bool)) == []
    assert expected_calibration_error(np.zeros(0), np.zeros(0, bool)) is None


def test_run_metrics_with_decisions_by_hand() -> None:
    run = Run(
        name="service",
        gold=["A", "B", None, None, "C"],
        answers=[
            Answer(["A"], 0.99, "AUTO_ACCEPT"),  # right, accepted
            Answer(["A", "B"], 0.97, "AUTO_ACCEPT"),  # wrong, accepted
            Answer(["A"], 0.0, "NO_MATCH"),  # right: names no part
            Answer(["C"], 0.5, "NEEDS_REVIEW"),  # wrong: it names no part
            Answer(["C"], 0.6, "NEEDS_REVIEW"),  # right, not accepted
        ],
        latencies_ms=[1.0, 2.0, 3.0, 4.0, 100.0],
    )
    m = metrics(run)
    assert m["acc@1"] == approx4(3 / 5)
    assert m["wrong_auto_rate"] == approx4(1 / 5)
    assert m["nomatch_recall"] == approx4(1 / 2)
    assert m["nomatch_precision"] == approx4(1.0)
    # Texts naming a part: A (rank 1), B (rank 2), C (rank 1).
    assert m["mrr"] == approx4((1 + 0.5 + 1) / 3)
    # Sorted by confidence: 0.99 right, 0.97 wrong, 0.6 right, 0.5 wrong, 0.0 (NO_MATCH).
    # The oracle picks the threshold on these very labels: 0.99 accepts 1 of 5 at 100%.
    assert m["oracle_automation@99"] == approx4(1 / 5)
    assert "automation@99" not in m
    # What the service did: 2 of 5 accepted, 1 of them right; 2 reviewed; 1 NO_MATCH.
    assert m["auto_rate"] == approx4(2 / 5)
    assert m["auto_precision"] == approx4(1 / 2)
    assert m["review_rate"] == approx4(2 / 5)
    assert m["nomatch_rate"] == approx4(1 / 5)
    # Texts naming a part: A right, B wrong (A on top), C right (top is C, reviewed).
    assert m["acc_named"] == approx4(2 / 3)
    assert m["latency_p50_ms"] == approx4(3.0)


def test_signal_runs_have_no_decision_metrics() -> None:
    run = Run("fuzzy", ["A", None], [Answer(["A"], 0.9), Answer(["B"], 0.4)], [1.0, 1.0])
    m = metrics(run)
    assert m["acc@1"] == approx4(0.5)
    assert m["wrong_auto_rate"] is None
    assert m["nomatch_recall"] is None and m["nomatch_precision"] is None
    for deployed in ("auto_rate", "auto_precision", "review_rate", "nomatch_rate"):
        assert m[deployed] is None, deployed
    # The one text naming a part is right: the comparable row ignores the no-part text.
    assert m["acc_named"] == approx4(1.0)
    assert m["oracle_automation@95"] is not None
