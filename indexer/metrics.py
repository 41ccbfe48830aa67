"""Metrics of a matcher's answers on labelled texts, each small enough to check by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def top1_accuracy(ranked: Sequence[Sequence[str]], gold: Sequence[str | None]) -> float:
    """Share of texts whose first answer is the labelled SKU; a text that names no part
    counts as right only when nothing is ranked."""
    if not gold:
        return 0.0
    right = [(r[0] if r else None) == g for r, g in zip(ranked, gold, strict=True)]
    return float(np.mean(right))


def recall_at(ranked: Sequence[Sequence[str]], gold: Sequence[str | None], k: int) -> float | None:
    """Share of texts naming a part whose SKU is among the first k answers."""
    pairs = [(r, g) for r, g in zip(ranked, gold, strict=True) if g is not None]
    if not pairs:
        return None
    return float(np.mean([g in r[:k] for r, g in pairs]))


def mean_reciprocal_rank(
    ranked: Sequence[Sequence[str]], gold: Sequence[str | None]
) -> float | None:
    pairs = [(list(r), g) for r, g in zip(ranked, gold, strict=True) if g is not None]
    if not pairs:
        return None
    return float(np.mean([1.0 / (r.index(g) + 1) if g in r else 0.0 for r, g in pairs]))


@dataclass(frozen=True)
class ConfidenceBin:
    """The answers whose confidence fell in one equal-width bin."""

    confidence: float  # their mean confidence
    accuracy: float  # the share of them that is right
    count: int


def confidence_bins(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> list[ConfidenceBin]:
    """The non-empty bins of [0, 1] cut into `bins` equal widths, lowest first; a confidence
    of exactly 1 falls in the last bin. Both the ECE and the reliability plot read these."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        members = index == b
        if members.any():
            out.append(
                ConfidenceBin(
                    float(confidence[members].mean()),
                    float(correct[members].mean()),
                    int(members.sum()),
                )
            )
    return out


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> float | None:
    """Weighted mean |accuracy - confidence| over equal-width confidence bins."""
    if len(confidence) == 0:
        return None
    total = 0.0
    for b in confidence_bins(confidence, correct, bins):
        total += b.count / len(confidence) * abs(b.accuracy - b.confidence)
    return total


def acceptance_counts(
    confidence: np.ndarray, correct: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accepting every answer with confidence >= t, for each distinct t (high to low): how
    many answers are accepted, how many of those are right, and t."""
    order = np.argsort(-confidence, kind="stable")
    conf = confidence[order]
    hits = np.cumsum(correct[order])
    n = np.arange(1, len(order) + 1)
    # Keep the last index of each run of equal confidences: ties are accepted together.
    last = np.r_[conf[1:] != conf[:-1], True] if len(conf) else np.zeros(0, bool)
    return n[last], hits[last], conf[last]


def coverage_precision_curve(
    confidence: np.ndarray, correct: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As acceptance_counts: the share of texts accepted (coverage), the precision of those,
    and t."""
    accepted, right, thresholds = acceptance_counts(confidence, correct)
    return accepted / max(1, len(confidence)), right / accepted, thresholds


def automation_at_precision(confidence: np.ndarray, correct: np.ndarray, precision: float) -> float:
    """The largest share of texts that can be auto-accepted with at least this precision."""
    coverage, prec, _ = coverage_precision_curve(confidence, correct)
    ok = coverage[prec >= precision]
    return float(ok.max()) if len(ok) else 0.0
