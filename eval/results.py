"""What one system answered on the evaluated texts (a `Run`) and the figures taken from it.

The bottom of the evaluation: `eval.run` produces runs, `eval.report` and `eval.predictions`
write them out, and all of them read the runs through this module only.

Two kinds of decision figures, never to be confused:

- deployed (`auto_rate`, `auto_precision`, `review_rate`, `nomatch_rate`, `wrong_auto_rate`):
  what the service did with the thresholds the trainer chose on valid.csv;
- oracle (`oracle_automation@95/98/99`): the best threshold chosen on the test labels
  themselves, an upper bound that no deployed threshold reaches by design.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
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

ORACLE_LABEL = "oracle: best threshold chosen on the test labels — not what the service does"

# Every figure of a run, and what it means: summary.json, report.md and summary_table use
# these names and report.md prints these definitions as its legend. Deployed figures first.
DEFINITIONS: dict[str, str] = {
    "acc_named": (
        "top-1 accuracy on the test texts that name a part: the top SKU is the labelled one "
        "(a service NO_MATCH counts as wrong). The row every system can be compared on."
    ),
    "acc@1": (
        "share of all test texts answered right: the top SKU is the labelled one, or, for a "
        "text naming no part, the answer is NO_MATCH. Systems without a decision policy never "
        "say NO_MATCH, so they get every no-part text wrong."
    ),
    "recall@5": "share of the texts naming a part whose SKU is among the first 5 answers.",
    "mrr": "mean reciprocal rank of the labelled SKU (0 when not ranked), texts naming a part.",
    "auto_rate": (
        "share of test texts AUTO_ACCEPTed, at the thresholds chosen on valid.csv: what the "
        "service automates. Null without a decision policy (single signals, baselines)."
    ),
    "auto_precision": (
        "share of the AUTO_ACCEPTed texts whose top SKU is the labelled one. Null without a "
        "decision policy or when nothing was accepted."
    ),
    "wrong_auto_rate": (
        "share of all test texts AUTO_ACCEPTed with a wrong SKU (auto_rate × (1 − auto_precision))."
    ),
    "review_rate": "share of test texts answered NEEDS_REVIEW (sent to a person).",
    "nomatch_rate": "share of test texts answered NO_MATCH.",
    "nomatch_precision": "of the texts answered NO_MATCH, the share that name no part.",
    "nomatch_recall": "of the texts that name no part, the share answered NO_MATCH.",
    "ece": (
        "expected calibration error of the top answer's confidence against its being right "
        "(10 equal bins; NO_MATCH answers left out)."
    ),
    "latency_p50_ms": (
        "median time per text, in process, one text at a time, the encoder's query cache "
        "emptied before each system."
    ),
    "latency_p99_ms": "99th percentile of the same.",
    "oracle_automation@95": (
        f"{ORACLE_LABEL}. The largest share of test texts that could be auto-accepted at "
        "≥ 95% precision, its threshold picked on test."
    ),
    "oracle_automation@98": f"{ORACLE_LABEL}. The same at ≥ 98% precision.",
    "oracle_automation@99": f"{ORACLE_LABEL}. The same at ≥ 99% precision.",
}
METRICS = tuple(DEFINITIONS)
ORACLE_METRICS = tuple(m for m in METRICS if m.startswith("oracle_"))
DEPLOYED_METRICS = tuple(m for m in METRICS if m not in ORACLE_METRICS)
# The comparable columns: what summary_table shows (the CLI, BENCHMARKS.md).
TABLE_METRICS = (
    "acc_named",
    "acc@1",
    "recall@5",
    "auto_rate",
    "auto_precision",
    "wrong_auto_rate",
    "nomatch_precision",
    "nomatch_recall",
    "ece",
    "latency_p50_ms",
    "latency_p99_ms",
)

# summary.json: system -> metrics, and under this key the facts about the dataset.
DATASET_KEY = "dataset"
# Under each system's metrics when the texts carry styles: style -> STYLE_METRICS and `n`.
BY_STYLE_KEY = "by_style"
# The figures per style: acc@1 (a NO_MATCH is right on a text naming no part, so on the
# no_part style it is the service's nomatch_recall), nomatch_recall itself, and the wrong
# auto-accepts that the style costs.
STYLE_METRICS = ("acc@1", "nomatch_recall", "wrong_auto_rate")
# The style of a text the data gives none, where others have one.
NO_STYLE = "(none)"
# Below this share of test texts naming a part with history, the report warns that SetFit and
# the classifier cannot answer most of them.
HISTORY_COVERAGE_CAVEAT = 0.5


@dataclass(frozen=True)
class Run:
    """One system's answers to the evaluated texts, in order, with the labels and latencies,
    and each text's style (an empty list when the data gives none)."""

    name: str
    gold: list[str | None]
    answers: list[Answer]
    latencies_ms: list[float]
    styles: list[str] = field(default_factory=list)


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


def _share(mask: np.ndarray, of: np.ndarray | None = None) -> float | None:
    """The mean of `mask` over the texts `of` selects (all by default); None over none."""
    selected = mask if of is None else mask[of]
    return float(selected.mean()) if len(selected) else None


def metrics(run: Run) -> dict[str, float | None]:
    """Every figure of METRICS for one run, rounded to 4 decimals; None where it has no
    meaning (decision figures for a system without decisions, anything on no texts)."""
    right = correctness(run)
    ranked = [a.ranked for a in run.answers]
    # A NO_MATCH answer is never auto-accepted: confidence 0 keeps it out of every threshold.
    confidence = np.asarray([a.confidence for a in run.answers], dtype=float)
    accept_right = top_is_gold(run)
    has_policy = any(a.decision is not None for a in run.answers)
    nopart = np.asarray([g is None for g in run.gold], dtype=bool)
    decisions = [a.decision for a in run.answers]

    def decided(decision: Decision) -> np.ndarray:
        return np.asarray([d == decision.value for d in decisions], dtype=bool)

    accepted = decided(Decision.AUTO_ACCEPT)
    review = decided(Decision.NEEDS_REVIEW)
    said_nomatch = decided(Decision.NO_MATCH)
    latencies = np.asarray(run.latencies_ms)
    out: dict[str, float | None] = {
        "acc_named": _share(right, ~nopart),
        "acc@1": _share(right),
        "recall@5": recall_at(ranked, run.gold, 5),
        "mrr": mean_reciprocal_rank(ranked, run.gold),
        "auto_rate": _share(accepted) if has_policy else None,
        "auto_precision": _share(accept_right, accepted) if has_policy else None,
        "wrong_auto_rate": _share(accepted & ~accept_right) if has_policy else None,
        "review_rate": _share(review) if has_policy else None,
        "nomatch_rate": _share(said_nomatch) if has_policy else None,
        "nomatch_precision": _share(nopart, said_nomatch) if has_policy else None,
        "nomatch_recall": _share(said_nomatch, nopart) if has_policy else None,
        "ece": expected_calibration_error(confidence[~said_nomatch], accept_right[~said_nomatch]),
        "latency_p50_ms": float(np.percentile(latencies, 50)) if len(latencies) else None,
        "latency_p99_ms": float(np.percentile(latencies, 99)) if len(latencies) else None,
        "oracle_automation@95": automation_at_precision(confidence, accept_right, 0.95),
        "oracle_automation@98": automation_at_precision(confidence, accept_right, 0.98),
        "oracle_automation@99": automation_at_precision(confidence, accept_right, 0.99),
    }
    assert tuple(out) == METRICS, "every metric is defined, in the order of DEFINITIONS"
    return {k: (None if v is None else round(float(v), 4)) for k, v in out.items()}


def style_groups(run: Run) -> dict[str, list[int]]:
    """Each style of the run's texts with the indices of its texts, in the order the styles
    first appear (a hand-written file groups them); empty when no text has a style."""
    if not any(run.styles):
        return {}
    groups: dict[str, list[int]] = {}
    for index, style in enumerate(run.styles):
        groups.setdefault(style or NO_STYLE, []).append(index)
    return groups


def subset(run: Run, indices: Sequence[int]) -> Run:
    """The run on some of its texts only, so that every figure of `metrics` applies to them."""
    return replace(
        run,
        gold=[run.gold[i] for i in indices],
        answers=[run.answers[i] for i in indices],
        latencies_ms=[run.latencies_ms[i] for i in indices],
        styles=[run.styles[i] for i in indices],
    )


def style_metrics(run: Run) -> dict[str, dict[str, Any]]:
    """summary.json's `by_style` of one system: style -> its number of texts `n` and
    STYLE_METRICS, the same figures as `metrics` on that style's texts only; empty when the
    texts carry no style."""
    out: dict[str, dict[str, Any]] = {}
    for style, indices in style_groups(run).items():
        figures = metrics(subset(run, indices))
        out[style] = {"n": len(indices), **{m: figures[m] for m in STYLE_METRICS}}
    return out


def dataset_facts(
    name: str,
    test_gold: Sequence[str | None],
    history_skus: Sequence[str | None],
    split: str = "test",
) -> dict[str, Any]:
    """summary.json's `dataset` entry: the split evaluated, how many of its texts name a part,
    and how many of those name a part that has any history text — the only parts SetFit and
    the classifier know. `test_texts` counts the evaluated split's texts, whichever it is."""
    known = {sku for sku in history_skus if sku is not None}
    named = [sku for sku in test_gold if sku is not None]
    with_history = sum(sku in known for sku in named)
    return {
        "name": name,
        "split": split,
        "test_texts": len(test_gold),
        "named_texts": len(named),
        "named_with_history": with_history,
        "history_coverage": round(with_history / len(named), 4) if named else None,
    }


def caveats(summary: Mapping[str, Any]) -> list[str]:
    """The warnings the figures need, one line each (none when none applies)."""
    facts = summary.get(DATASET_KEY) or {}
    coverage = facts.get("history_coverage")
    if coverage is None or coverage >= HISTORY_COVERAGE_CAVEAT:
        return []
    return [
        "SetFit and the classifier know only parts with history: "
        f"{facts['named_with_history']} of {facts['named_texts']} "
        f"{facts.get('split', 'test')} texts name such a part."
    ]


def system_rows(summary: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The systems of a summary with their metrics: not the dataset's entry, not a system
    left out (None)."""
    for name, values in summary.items():
        if name != DATASET_KEY and values is not None:
            yield name, values


def metrics_table(summary: Mapping[str, Any], columns: Sequence[str]) -> str:
    """The given metrics of every system in the summary as a Markdown table."""
    lines = ["| system | " + " | ".join(columns) + " |", "|" + " --- |" * (len(columns) + 1)]
    for name, values in system_rows(summary):
        cells = [_cell(values.get(m)) for m in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary_table(summary: Mapping[str, Any]) -> str:
    """The comparable columns (TABLE_METRICS) of every system as a Markdown table, with the
    caveats that apply under it, and the per-style table when the texts carry styles.
    `summary` is summary.json's content."""
    lines = [metrics_table(summary, TABLE_METRICS)]
    notes = caveats(summary)
    if notes:
        lines += ["", *notes]
    styles = style_table(summary)
    if styles:
        lines += ["", "Per style (acc@1 of each system):", "", styles]
    return "\n".join(lines)


def style_table(summary: Mapping[str, Any]) -> str:
    """The per-style figures of a summary as a Markdown table: a row per style with its number
    of texts, each system's acc@1, and the service's wrong auto-accepts (count and share of
    the style's texts); empty when no system has per-style figures."""
    systems = [(n, v[BY_STYLE_KEY]) for n, v in system_rows(summary) if v.get(BY_STYLE_KEY)]
    if not systems:
        return ""
    service = dict(systems).get("service")
    styles = list(dict.fromkeys(style for _, by_style in systems for style in by_style))
    columns = ["style", "n", *(f"{name} acc@1" for name, _ in systems)]
    if service is not None:
        columns.append("service wrong auto-accepts")
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for style in styles:
        n = next(by_style[style]["n"] for _, by_style in systems if style in by_style)
        cells = [style, str(n)]
        cells += [_cell(by_style.get(style, {}).get("acc@1")) for _, by_style in systems]
        if service is not None:
            cells.append(_wrong_autos(service.get(style, {})))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _wrong_autos(figures: Mapping[str, Any]) -> str:
    """`count (share)` of a style's wrong auto-accepts: on a hand-written set a style has a
    few dozen texts, where a count reads better than a share."""
    rate = figures.get("wrong_auto_rate")
    if rate is None:
        return "—"
    return f"{round(rate * figures['n'])} ({rate:.4g})"
