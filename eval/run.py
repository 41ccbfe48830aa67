"""`partmatch eval`: every system on the same texts, the metrics, tables and plots.

Honest splits: systems are trained on history.csv; thresholds, calibration and every choice
are made on valid.csv; the texts answered are read only here. They are test.csv's, or with
`--split dev` the optional hand-written dev.csv's, whose texts carry a style (plain, typo,
symptom, ...) and may carry the vehicle the storefront sends as context; the service is
handed that vehicle, as Match is.

What it writes in the output folder:

- `summary.json`: system -> metrics (`eval.results.METRICS`), null for a system left out, and
  when the texts carry styles, under each system's `by_style` (`eval.results.BY_STYLE_KEY`)
  style -> `n` and `eval.results.STYLE_METRICS`; under `dataset` (`eval.results.DATASET_KEY`)
  the split evaluated and how many of its texts name a part with history;
- `meta.json`: the dataset, the split, its number of texts, the model, the Elasticsearch
  version, and the provenance: code version, command line, machine, date and split
  (`eval.provenance`);
- `report.md` (provenance at its top, a per-style table when the texts carry styles) with
  `coverage_precision.png`, `reliability.png`, `confused_pairs.png`;
- `predictions/<system>.csv`: every text with its label and the system's top 5, by SKU
  and catalog name, confidence, decision and whether it is right (`eval.predictions`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.predictions import write_all_predictions
from eval.provenance import provenance
from eval.report import write_plots, write_report
from eval.results import BY_STYLE_KEY, DATASET_KEY, Run, dataset_facts, metrics, style_metrics
from eval.systems import RankingSystem, ServiceSystem, SignalSystem, System
from indexer.dataset import Dataset, load_dataset
from indexer.encoder_export import export_encoder
from indexer.offline import offline_settings
from matcher.app import build_matcher, load_encoder
from matcher.catalog_view import CatalogViewBuilder
from matcher.config import Settings
from matcher.encoder import Encoder
from matcher.engine import Matcher
from matcher.examples import Example
from matcher.registry import ModelVersion, open_current, open_version
from matcher.signals.lexical import BM25Signal

log = logging.getLogger(__name__)

SYSTEMS = ("service", "es_bm25", "es_bm25_history", "bm25", "fuzzy", "embedding", "setfit")
# The systems that answer with the model trained on history; the others need no training.
TRAINED_SYSTEMS = frozenset({"service", "embedding"})
# The splits an evaluation can answer: test.csv, or the optional hand-written dev.csv.
EVAL_SPLITS = ("test", "dev")


def run_system(system: System, examples: Sequence[Example], progress: bool) -> Run:
    answers, latencies = [], []
    for example in tqdm(examples, desc=system.name, disable=not progress, leave=False):
        started = time.perf_counter()
        answers.append(system.answer(example.text, example.vehicle))
        latencies.append((time.perf_counter() - started) * 1000)
    gold = [e.sku for e in examples]
    return Run(system.name, gold, answers, latencies, [e.style for e in examples])


def run_systems(
    systems: Sequence[System],
    examples: Sequence[Example],
    progress: bool,
    encoder: Encoder | None = None,
) -> list[Run]:
    """Every system on the examples, one after the other, each with a cold query cache: the
    encoder is shared, and a system run after another must pay for its own encodes."""
    runs = []
    for system in systems:
        if encoder is not None:
            encoder.forget_queries()
        runs.append(run_system(system, examples, progress))
    return runs


def split_examples(dataset: Dataset, split: str) -> list[Example]:
    """The texts an evaluation answers; refused when there are none, before any training."""
    if split not in EVAL_SPLITS:
        raise ValueError(f"cannot evaluate on {split!r}; expected one of {', '.join(EVAL_SPLITS)}")
    examples = dataset.split(split)
    if not examples:
        raise ValueError(f"{dataset.root}: no {split} texts ({split}.csv is missing or empty)")
    return examples


def train_service(
    settings: Settings, dataset: Dataset, epochs: int, progress: bool, rerank_steps: int = 0
) -> ModelVersion:
    from indexer.train import train
    from indexer.training.reranker_trainer import RerankerConfig

    result = train(
        settings,
        dataset.root,
        epochs=epochs,
        promote=True,
        force=True,
        progress=progress,
        reranker_config=(
            RerankerConfig(steps=rerank_steps, progress=progress) if rerank_steps else None
        ),
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
    split: str = "test",
    rerank_steps: int = 0,
) -> dict[str, Any]:
    """Run the systems on the dataset's `split` (test, or the hand-written dev set) and write
    the output folder (see the module's docstring); returns summary.json's content."""
    summaries = evaluate_splits(
        data_dir,
        {split: out_dir},
        settings,
        epochs=epochs,
        model_dir=model_dir,
        systems=systems,
        progress=progress,
        rerank_steps=rerank_steps,
    )
    return summaries[split]


def evaluate_splits(
    data_dir: Path,
    outs: Mapping[str, Path],
    settings: Settings,
    epochs: int = 1,
    model_dir: Path | None = None,
    systems: Sequence[str] = SYSTEMS,
    progress: bool = True,
    rerank_steps: int = 0,
) -> dict[str, dict[str, Any]]:
    """`evaluate` on several splits (`outs`: split -> its output folder), with one model and
    one set of systems for all of them: training, SetFit and the baselines' indexes are paid
    for once. Returns split -> summary.json's content."""
    dataset = load_dataset(data_dir)
    examples = {split: split_examples(dataset, split) for split in outs}
    for out_dir in outs.values():  # before training: an unwritable folder fails in seconds
        out_dir.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"dataset": dataset.name, "provenance": provenance()}
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
            model = train_service(work, dataset, epochs, progress, rerank_steps)
        if model is not None and work.encoder_runtime != "torch":
            # The server runs the model's ONNX export from its own state; a registry from
            # elsewhere has none in this scratch state, and the evaluation should measure
            # what the server would run.
            export_encoder(work.state_dir, model.encoder_path)
        # One encoder for every system, so that its query cache can be emptied between them.
        encoder = load_encoder(work, model)
        # The service as configured: with ES_URL its lexical signal is Elasticsearch.
        matcher = build_matcher(work, dataset.catalog, dataset.history, model, encoder=encoder)
        built = _systems(work, dataset, matcher, systems, progress, meta)
        runs = {split: run_systems(built, examples[split], progress, encoder) for split in outs}
        matcher.close()
    meta["model"] = model.version if model else "none (no system evaluated needs one)"
    return {
        split: write_outputs(dataset, split, examples[split], runs[split], meta, outs[split])
        for split in outs
    }


def write_outputs(
    dataset: Dataset,
    split: str,
    examples: Sequence[Example],
    runs: Sequence[Run],
    meta: Mapping[str, Any],
    out_dir: Path,
) -> dict[str, Any]:
    """One split's output folder (see the module's docstring); returns summary.json's content."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {name: None for name in SYSTEMS}
    for run in runs:
        figures: dict[str, Any] = metrics(run)
        by_style = style_metrics(run)
        if by_style:
            figures[BY_STYLE_KEY] = by_style
        summary[run.name] = figures
    summary[DATASET_KEY] = dataset_facts(
        dataset.name, [e.sku for e in examples], [e.sku for e in dataset.history], split
    )
    meta = {
        **meta,
        "split": split,
        "test_texts": len(examples),
        # The split is part of what produced the figures: a dev run is no test run.
        "provenance": {**meta["provenance"], "split": split},
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    names = {part.sku: part.name for part in dataset.catalog}
    write_all_predictions(runs, [e.text for e in examples], names, out_dir)
    write_plots(runs, out_dir, names)
    write_report(summary, meta, out_dir)
    return summary


def _systems(
    settings: Settings,
    dataset: Dataset,
    matcher: Matcher,
    wanted: Sequence[str],
    progress: bool,
    meta: dict[str, Any],
) -> list[System]:
    """The wanted systems, built (and fitted, for SetFit) on the dataset's history."""
    systems: list[System] = []
    if "service" in wanted:
        systems.append(ServiceSystem(matcher))
    signals = {s.name: s for s in matcher.signals}
    # The embedded BM25 on a view of its own: with ES_URL set, the service's view has none.
    embedded = CatalogViewBuilder().build(dataset.catalog, dataset.history)
    for name, signal, view in (
        ("bm25", BM25Signal(), embedded),
        ("fuzzy", signals["fuzzy"], matcher.view),
        ("embedding", signals["semantic"], matcher.view),
    ):
        if name in wanted:
            systems.append(SignalSystem(signal, view, name))
    if settings.es_url:
        systems += _es_systems(settings, dataset, wanted, meta)
    else:
        log.warning("ES_URL is not set: the Elasticsearch baselines are left out")
    if "setfit" in wanted:
        setfit = _setfit_system(settings, dataset, progress)
        if setfit is not None:
            systems.append(setfit)
    return systems


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
