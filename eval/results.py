"""What one system answered on the test texts (a `Run`) and the figures taken from it.

The bottom of the evaluation: `eval.run` produces runs, `eval.report` and `eval.predictions`
write them out, and all of them read the runs through this module only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from eval.systems import Answer
from indexer.metrics import (
    automation_at_precision,
    expected_calibration_error,
    mean_reciprocal_rank,
    recall_at,
)
from matcher.decision import Decision

METRICS = (
    "acc@1",
    "recall@5",
    "mrr",
    "automation@95",
    "automation@98",
    "automation@99",
    "wrong_auto_rate",
    "nomatch_recall",
    "nomatch_precision",
    "ece",
    "latency_p50_ms",
    "latency_p99_ms",
)


@dataclass(frozen=True)
class Run:
    """One system's answers to the test texts, in order, with the labels and latencies."""

    name: str
    gold: list[str | None]
    answers: list[Answer]
    latencies_ms: list[float]


def correctness(run: Run) -> np.ndarray:
    """Whether each answer is right: its top SKU is the labelled one, or, for a text that
    names no part, the system said so."""
    right = []
    for answer, gold in zip(run.answers, run.gold, strict=True):
        if answer.decision == Decision.NO_MATCH.value:
            right.append(gold is None)
        else:
            right.append(bool(answer.ranked) and answer.ranked[0] == gold)
    return np.asarray(right, dtype=bool)


def top_is_gold(run: Run) -> np.ndarray:
    """Whether each answer's top SKU is the labelled one, whatever the decision: what
    accepting the answer would get right (a text naming no part has no right SKU)."""
    return np.asarray(
        [bool(a.ranked) and a.ranked[0] == g for a, g in zip(run.answers, run.gold, strict=True)],
        dtype=bool,
    )


def metrics(run: Run) -> dict[str, float | None]:
    """Every figure of METRICS for one run, rounded to 4 decimals; None where it has no
    meaning (decision figures for a system without decisions, anything on no texts)."""
    right = correctness(run)
    ranked = [a.ranked for a in run.answers]
    # A NO_MATCH answer is never auto-accepted: confidence 0 keeps it out of every threshold.
    confidence = np.asarray([a.confidence for a in run.answers], dtype=float)
    accept_right = top_is_gold(run)
    has_policy = any(a.decision is not None for a in run.answers)
    nopart = np.asarray([g is None for g in run.gold])
    said_nomatch = np.asarray([a.decision == Decision.NO_MATCH.value for a in run.answers])
    accepted = np.asarray([a.decision == Decision.AUTO_ACCEPT.value for a in run.answers])
    latencies = np.asarray(run.latencies_ms)
    out: dict[str, float | None] = {
        "acc@1": float(right.mean()) if len(right) else None,
        "recall@5": recall_at(ranked, run.gold, 5),
        "mrr": mean_reciprocal_rank(ranked, run.gold),
        "automation@95": automation_at_precision(confidence, accept_right, 0.95),
        "automation@98": automation_at_precision(confidence, accept_right, 0.98),
        "automation@99": automation_at_precision(confidence, accept_right, 0.99),
        "wrong_auto_rate": float((accepted & ~accept_right).mean()) if has_policy else None,
        "nomatch_recall": (
            float(said_nomatch[nopart].mean()) if has_policy and nopart.any() else None
        ),
        "nomatch_precision": (
            float(nopart[said_nomatch].mean()) if has_policy and said_nomatch.any() else None
        ),
        "ece": expected_calibration_error(confidence[~said_nomatch], accept_right[~said_nomatch]),
        "latency_p50_ms": float(np.percentile(latencies, 50)) if len(latencies) else None,
        "latency_p99_ms": float(np.percentile(latencies, 99)) if len(latencies) else None,
    }
    return {k: (None if v is None else round(float(v), 4)) for k, v in out.items()}


def summary_table(summary: Mapping[str, Any]) -> str:
    """The summary (system -> metrics, None for a system left out) as a Markdown table."""
    header = "| system | " + " | ".join(METRICS) + " |"
    lines = [header, "|" + " --- |" * (len(METRICS) + 1)]
    for name, values in summary.items():
        if values is None:
            continue
        cells = ["—" if values[m] is None else f"{values[m]:.4g}" for m in METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
