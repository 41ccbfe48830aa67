"""`partmatch eval`: every system on the same test texts, the metrics, tables and plots.

Honest splits: systems are trained on history.csv; thresholds, calibration and every choice
are made on valid.csv; test.csv is read only here, to answer.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from eval.metrics import (
    automation_at_precision,
    expected_calibration_error,
    mean_reciprocal_rank,
    recall_at,
)
from eval.systems import Answer, RankingSystem, ServiceSystem, SignalSystem, System
from indexer.dataset import Dataset, load_dataset
from indexer.offline import offline_settings
from matcher.app import build_matcher
from matcher.config import Settings
from matcher.decision import Decision
from matcher.engine import Matcher
from matcher.registry import ModelVersion, open_current, open_version
from matcher.signals.lexical import BM25Signal

log = logging.getLogger(__name__)

SYSTEMS = ("service", "es_bm25", "es_bm25_history", "bm25", "fuzzy", "embedding", "setfit")
# The systems that answer with the model trained on history; the others need no training.
TRAINED_SYSTEMS = frozenset({"service", "embedding"})
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
    name: str
    gold: list[str | None]
    answers: list[Answer]
    latencies_ms: list[float]


def run_system(
    system: System, texts: Sequence[str], gold: Sequence[str | None], progress: bool
) -> Run:
    answers, latencies = [], []
    for text in tqdm(texts, desc=system.name, disable=not progress, leave=False):
        started = time.perf_counter()
        answers.append(system.answer(text))
        latencies.append((time.perf_counter() - started) * 1000)
    return Run(system.name, list(gold), answers, latencies)


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


def metrics(run: Run) -> dict[str, float | None]:
    right = correctness(run)
    ranked = [a.ranked for a in run.answers]
    # A NO_MATCH answer is never auto-accepted: confidence 0 keeps it out of every threshold.
    confidence = np.asarray([a.confidence for a in run.answers], dtype=float)
    accept_right = np.asarray(
        [bool(a.ranked) and a.ranked[0] == g for a, g in zip(run.answers, run.gold, strict=True)]
    )
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


def train_service(
    settings: Settings, dataset: Dataset, epochs: int, progress: bool
) -> ModelVersion:
    from indexer.train import train

    result = train(
        settings, dataset.root, epochs=epochs, promote=True, force=True, progress=progress
    )
    return open_version(settings.models_dir, result.version)


def evaluate(
    data_dir: Path,
    out_dir: Path,
    settings: Settings,
    epochs: int = 1,
    model_dir: Path | None = None,
    systems: Sequence[str] = SYSTEMS,
    progress: bool = True,
) -> dict[str, dict[str, float | None] | None]:
    dataset = load_dataset(data_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"dataset": dataset.name, "test_texts": len(dataset.test)}
    with (
        tempfile.TemporaryDirectory(prefix="partmatch-eval-") as scratch,
        offline_settings(dataclasses.replace(settings, state_dir=Path(scratch))) as work,
    ):
        model: ModelVersion | None = None
        if model_dir is not None:
            model = open_current(model_dir)
            if model is None:
                raise ValueError(f"{model_dir}: no current model in this registry")
        elif set(systems) & TRAINED_SYSTEMS:
            model = train_service(work, dataset, epochs, progress)
        # The service as configured: with ES_URL its lexical signal is Elasticsearch.
        matcher = build_matcher(work, dataset.catalog, dataset.history, model)
        runs = _run_all(work, dataset, matcher, systems, progress, meta)
        matcher.close()
    summary: dict[str, dict[str, float | None] | None] = {name: None for name in SYSTEMS}
    for run in runs:
        summary[run.name] = metrics(run)
    meta["model"] = model.version if model else "none (no system evaluated needs one)"
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    from eval.report import write_plots, write_report

    write_plots(runs, out_dir)
    write_report(summary, meta, out_dir)
    return summary


def _run_all(
    settings: Settings,
    dataset: Dataset,
    matcher: Matcher,
    wanted: Sequence[str],
    progress: bool,
    meta: dict[str, Any],
) -> list[Run]:
    texts = [e.text for e in dataset.test]
    gold = [e.sku for e in dataset.test]
    systems: list[System] = []
    if "service" in wanted:
        systems.append(ServiceSystem(matcher))
    signals = {s.name: s for s in matcher.signals}
    embedded_bm25 = BM25Signal()
    embedded_bm25.load(dataset.catalog, dataset.history)
    for name, signal in (
        ("bm25", embedded_bm25),
        ("fuzzy", signals["fuzzy"]),
        ("embedding", signals["semantic"]),
    ):
        if name in wanted:
            systems.append(SignalSystem(signal, name))
    if settings.es_url:
        systems += _es_systems(settings, dataset, wanted, meta)
    else:
        log.warning("ES_URL is not set: the Elasticsearch baselines are left out")
    if "setfit" in wanted:
        setfit = _setfit_system(settings, dataset, progress)
        if setfit is not None:
            systems.append(setfit)
    return [run_system(s, texts, gold, progress) for s in systems]


def _es_systems(
    settings: Settings, dataset: Dataset, wanted: Sequence[str], meta: dict[str, Any]
) -> list[System]:
    from eval.es_baseline import ElasticsearchBaseline, margin_confidence
    from matcher.elastic.client import make_client, node_version

    client = make_client(settings.es_url, timeout_s=30.0)
    meta["elasticsearch"] = node_version(client)
    systems: list[System] = []
    for name, history in (("es_bm25", False), ("es_bm25_history", True)):
        if name not in wanted:
            continue
        baseline = ElasticsearchBaseline(
            client, f"{settings.es_index_prefix}-eval-{name.replace('_', '-')}", history=history
        )
        baseline.load(dataset.catalog, dataset.history)
        meta["es_baseline_analyzer"] = baseline.analyzer
        systems.append(RankingSystem(baseline.rank, margin_confidence, name))
    return systems


def _setfit_system(settings: Settings, dataset: Dataset, progress: bool) -> System | None:
    try:
        from eval.setfit_peer import SetFitPeer
    except ImportError as exc:
        log.warning("SetFit peer unavailable: %s", exc)
        return None
    peer = SetFitPeer.fit(settings.model_path, dataset.history, progress=progress)
    return RankingSystem(peer.rank, lambda scores: scores[0] if scores else 0.0, "setfit")


def summary_table(summary: Mapping[str, Any]) -> str:
    header = "| system | " + " | ".join(METRICS) + " |"
    lines = [header, "|" + " --- |" * (len(METRICS) + 1)]
    for name, values in summary.items():
        if values is None:
            continue
        cells = ["—" if values[m] is None else f"{values[m]:.4g}" for m in METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
