"""The evaluation report: tables in Markdown and PNG plots."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.results import (
    DEFINITIONS,
    DEPLOYED_METRICS,
    ORACLE_LABEL,
    ORACLE_METRICS,
    Run,
    caveats,
    correctness,
    metrics_table,
    style_table,
    top_is_gold,
)
from indexer.metrics import confidence_bins, coverage_precision_curve

# The confused-pairs plot labels a part "SKU name"; catalog names run to a hundred characters
# and more, which would squeeze the bars out of the figure.
NAME_WIDTH = 40
NO_PART = "∅"


def write_report(summary: Mapping[str, Any], meta: Mapping[str, Any], out_dir: Path) -> Path:
    """report.md: provenance, what each system does (the deployed figures first, with the
    caveats, then the per-style table when the texts carry styles), the oracle figures apart
    and labelled, a legend of every metric, the plots."""
    split = meta.get("split", "test")
    lines = [
        f"# Evaluation on `{meta['dataset']}`, {split} split",
        "",
        *provenance_lines(meta.get("provenance")),
        f"{meta['test_texts']} {split} texts; service model `{meta['model']}`. Systems trained",
        "on history.csv, thresholds and calibration chosen on valid.csv, figures from",
        f"{split}.csv.",
        "",
        *_elasticsearch_lines(meta),
        "## What each system does (thresholds chosen on valid)",
        "",
        metrics_table(summary, DEPLOYED_METRICS),
        "",
        *[line for note in caveats(summary) for line in (note, "")],
        *_style_lines(summary),
        "## Oracle figures",
        "",
        f"{ORACLE_LABEL.capitalize()}. An upper bound: no deployed threshold is chosen this way.",
        "",
        metrics_table(summary, ORACLE_METRICS),
        "",
        "## Metrics",
        "",
        *[f"- `{name}`: {text}" for name, text in DEFINITIONS.items()],
        "",
        "![coverage-precision](coverage_precision.png)",
        "![reliability](reliability.png)",
        "![confused pairs](confused_pairs.png)",
        "",
    ]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines))
    return path


def provenance_lines(provenance: Mapping[str, Any] | None) -> list[str]:
    """Which code, command, machine and time produced the figures, as Markdown lines."""
    if not provenance:
        return []
    machine = f"{provenance.get('cores', '?')} cores, {provenance.get('cpu', 'unknown')}"
    if provenance.get("cpu_extensions"):
        machine += f" ({', '.join(provenance['cpu_extensions'])})"
    return [
        f"- code: `{provenance.get('commit', 'unknown')}`",
        f"- command: `{provenance.get('command', 'unknown')}`",
        f"- machine: {machine}",
        f"- date: {provenance.get('date', 'unknown')}",
        *([f"- split: {provenance['split']}"] if "split" in provenance else []),
        "",
    ]


def _style_lines(summary: Mapping[str, Any]) -> list[str]:
    table = style_table(summary)
    if not table:
        return []
    return [
        "## Per style",
        "",
        "acc@1 of each system on the texts of each style (a text naming no part is right only",
        "when answered NO_MATCH, which only the service says), and the service's wrong",
        "auto-accepts: count (share of the style's texts).",
        "",
        table,
        "",
    ]


def _elasticsearch_lines(meta: Mapping[str, Any]) -> list[str]:
    if "elasticsearch" not in meta:
        return []
    return [
        f"Elasticsearch {meta['elasticsearch']}; the `es_bm25` baselines used its "
        f"`{meta.get('es_baseline_analyzer', '?')}` analyzer.",
        "",
    ]


def part_label(sku: str | None, names: Mapping[str, str], width: int = NAME_WIDTH) -> str:
    """A part as a plot shows it: its SKU and its name, cut to `width` characters."""
    if sku is None:
        return f"{NO_PART} (no part)"
    name = " ".join(names.get(sku, "").split())
    if len(name) > width:
        name = name[: width - 1].rstrip() + "…"
    return f"{sku} {name}" if name else sku


def write_plots(runs: Sequence[Run], out_dir: Path, names: Mapping[str, str]) -> None:
    """coverage_precision.png (every run), reliability.png and confused_pairs.png (the
    service's run, or the first); `names` maps SKUs to catalog names for the labels."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and in CI
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    for run in runs:
        confidence = np.asarray([a.confidence for a in run.answers])
        coverage, precision, _ = coverage_precision_curve(confidence, top_is_gold(run))
        ax.plot(coverage, precision, label=run.name)
    ax.set(xlabel="coverage (share auto-accepted)", ylabel="precision of accepted answers")
    ax.set_ylim(0.5, 1.005)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(out_dir / "coverage_precision.png", dpi=120, bbox_inches="tight")
    plt.close(fig)

    service = next((r for r in runs if r.name == "service"), runs[0] if runs else None)
    fig, ax = plt.subplots(figsize=(5, 5))
    if service is not None:
        # NO_MATCH answers carry no confidence of a part being right: left out, as in the ECE.
        kept = np.asarray([a.decision != "NO_MATCH" for a in service.answers])
        confidence = np.asarray([a.confidence for a in service.answers])[kept]
        right = correctness(service)[kept]
        # The ECE's own bins, so the plot shows what the figure measures.
        bins = confidence_bins(confidence, right)
        centres = [b.confidence for b in bins]
        accuracy = [b.accuracy for b in bins]
        counts = [b.count for b in bins]
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
        ax.plot(centres, accuracy, marker="o", label=service.name)
        for x, y, n in zip(centres, accuracy, counts, strict=True):
            ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set(xlabel="confidence", ylabel="accuracy", title="reliability (count per bin)")
    ax.legend()
    fig.savefig(out_dir / "reliability.png", dpi=120, bbox_inches="tight")
    plt.close(fig)

    pairs: Counter[tuple[str | None, str | None]] = Counter()
    if service is not None:
        for answer, gold in zip(service.answers, service.gold, strict=True):
            said = bool(answer.ranked) and answer.decision != "NO_MATCH"
            predicted = answer.ranked[0] if said else None
            if predicted != gold:
                pairs[(gold, predicted)] += 1
    top = pairs.most_common(15)
    # Two lines a bar (labelled part, then the answer): names side by side would not fit.
    labels = [f"{part_label(g, names)}\n→ {part_label(p, names)}" for (g, p), _ in reversed(top)]
    fig, ax = plt.subplots(figsize=(8, 0.6 * max(3, len(top)) + 1))
    ax.barh(labels, [n for _, n in reversed(top)])
    ax.set(xlabel="test texts", title="most confused pairs (labelled → answered)")
    fig.savefig(out_dir / "confused_pairs.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
