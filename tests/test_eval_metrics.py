"""Evaluation metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from eval.metrics import (
    automation_at_precision,
    coverage_precision_curve,
    expected_calibration_error,
    mean_reciprocal_rank,
    recall_at,
    top1_accuracy,
)
from eval.run import Run, metrics
from eval.systems import Answer

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
    assert m["automation@99"] == approx4(1 / 5)
    assert m["latency_p50_ms"] == approx4(3.0)


def test_signal_runs_have_no_decision_metrics() -> None:
    run = Run("fuzzy", ["A", None], [Answer(["A"], 0.9), Answer(["B"], 0.4)], [1.0, 1.0])
    m = metrics(run)
    assert m["acc@1"] == approx4(0.5)
    assert m["wrong_auto_rate"] is None
    assert m["nomatch_recall"] is None and m["nomatch_precision"] is None
