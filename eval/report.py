"""The evaluation report: tables in Markdown and PNG plots."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from eval.metrics import coverage_precision_curve

if TYPE_CHECKING:
    from eval.run import Run


def write_report(summary: Mapping[str, Any], meta: Mapping[str, Any], out_dir: Path) -> Path:
    from eval.run import summary_table

    lines = [
        f"# Evaluation on `{meta['dataset']}`",
        "",
        f"{meta['test_texts']} test texts; service model `{meta['model']}`. Systems trained on",
        "history.csv, thresholds and calibration chosen on valid.csv, figures from test.csv.",
        "",
        *_elasticsearch_lines(meta),
        summary_table(summary),
        "",
        "![coverage-precision](coverage_precision.png)",
        "![reliability](reliability.png)",
        "![confused pairs](confused_pairs.png)",
        "",
    ]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines))
    return path


def _elasticsearch_lines(meta: Mapping[str, Any]) -> list[str]:
    if "elasticsearch" not in meta:
        return []
    return [
        f"Elasticsearch {meta['elasticsearch']}; the `es_bm25` baselines used its "
        f"`{meta.get('es_baseline_analyzer', '?')}` analyzer.",
        "",
    ]


def write_plots(runs: Sequence[Run], out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and in CI
    import matplotlib.pyplot as plt

    from eval.run import correctness

    fig, ax = plt.subplots(figsize=(7, 5))
    for run in runs:
        confidence = np.asarray([a.confidence for a in run.answers])
        right = np.asarray(
            [
                bool(a.ranked) and a.ranked[0] == g
                for a, g in zip(run.answers, run.gold, strict=True)
            ]
        )
        coverage, precision, _ = coverage_precision_curve(confidence, right)
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
        edges = np.linspace(0, 1, 11)
        index = np.clip(np.digitize(confidence, edges[1:-1]), 0, 9)
        centres, accuracy, counts = [], [], []
        for b in range(10):
            members = index == b
            if members.any():
                centres.append(float(confidence[members].mean()))
                accuracy.append(float(right[members].mean()))
                counts.append(int(members.sum()))
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
        ax.plot(centres, accuracy, marker="o", label=service.name)
        for x, y, n in zip(centres, accuracy, counts, strict=True):
            ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set(xlabel="confidence", ylabel="accuracy", title="reliability (count per bin)")
    ax.legend()
    fig.savefig(out_dir / "reliability.png", dpi=120, bbox_inches="tight")
    plt.close(fig)

    pairs: Counter[tuple[str, str]] = Counter()
    if service is not None:
        for answer, gold in zip(service.answers, service.gold, strict=True):
            predicted = answer.ranked[0] if answer.ranked and answer.decision != "NO_MATCH" else "∅"
            if predicted != (gold or "∅"):
                pairs[(gold or "∅", predicted)] += 1
    top = pairs.most_common(15)
    fig, ax = plt.subplots(figsize=(8, 0.35 * max(3, len(top)) + 1))
    ax.barh([f"{g} → {p}" for (g, p), _ in reversed(top)], [n for _, n in reversed(top)])
    ax.set(xlabel="test texts", title="most confused pairs (labelled → answered)")
    fig.savefig(out_dir / "confused_pairs.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
