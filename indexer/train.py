"""`partmatch train`: fine-tune on history, fit head and fusion, register, promote through the gate.

Data comes from a data directory (history.csv to learn from, valid.csv to choose and gate;
test.csv is never read) or, without one, from the catalog store: its catalog and the
labelled examples that accumulated there, a seeded 10% of them held out for validation.

A warm start continues from the current model's encoder, on the rows its version had not
seen plus an equal-sized replay of rows it had, so new wording is learned without the old
being forgotten; the classification head is always refitted on the whole history.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer import registry_admin
from indexer.dataset import load_dataset
from indexer.encoder_export import export_encoder
from indexer.head_training import fit_head
from indexer.metrics import recall_at, top1_accuracy
from indexer.offline import offline_settings
from indexer.reranker_export import export_reranker
from indexer.training.pairs import PairConfig, mine_triplets
from indexer.training.reranker_trainer import (
    RerankerConfig,
    RerankerReport,
    RerankerTrainer,
    base_reranker,
    mine_groups,
)
from indexer.training.trainer import EncoderTrainer, TrainerConfig, TrainReport
from matcher.app import build_matcher, load_encoder, open_encoder
from matcher.catalog import Part
from matcher.catalog_store import SqliteCatalogStore
from matcher.config import Settings
from matcher.decision import Decision
from matcher.embedding_cache import read_cache, write_cache
from matcher.encoder import Encoder
from matcher.engine import Matcher
from matcher.examples import Example
from matcher.fusion import LearnedFusion
from matcher.registry import ModelError, ModelVersion, current_version, open_version
from matcher.reranker import Reranker
from matcher.signals.lexical import BM25Signal

log = logging.getLogger(__name__)

# Cold or warm: a warm start's new-plus-replayed rows are few, so its epochs are short.
DEFAULT_EPOCHS = 2
# Steps per epoch at most (of 32 triplets); each capped epoch draws a fresh sample. On 2 CPU
# cores a step takes 1.2 s on banking77 and 1.9 s on the sample (long catalog texts): a
# whole epoch is 465 steps and 9 minutes there, 383 steps and 12 minutes here.
DEFAULT_MAX_STEPS = 100
# Share of the store's examples held out for validation when training without --data.
HOLDOUT_SHARE = 0.1
# Share of the history kept out of fine-tuning when the encoder is fine-tuned: the learned
# fusion is fitted on these texts' out-of-fold features, so that its semantic and classifier
# features look as they will on new text, not as on text the encoder was trained on.
FUSION_SHARE = 0.2
# Validation is cross-fitted: the deployed calibration, accept threshold and no-match cut are
# fitted on all of valid, and the figures the gate compares grade each half with a fit on the
# other, for the new and the current model alike, so neither is graded on texts it was fitted
# to. The halves are chosen by a hash of the text, so a text stays on its side from one
# training to the next.
GATE_SHARE = 0.5
# The head's regularisation (inverse strength), as in indexer.head_training.
HEAD_C = 10.0
# Rows replayed from the parent's data per new row in a warm start.
REPLAY_RATIO = 2.0
# One short hash per training row: what a warm start compares to find the new rows,
# without copying customers' texts into every model directory.
ROWS_FILE = "training_rows.txt"


@dataclass(frozen=True)
class TrainingData:
    parts: list[Part]
    history: list[Example]
    valid: list[Example]
    source: str

    def cross_fit_halves(self, seed: int) -> np.ndarray:
        """Which validation texts form the first half of the cross-fit."""
        return np.asarray(
            [_hash_fraction(seed, "gate", e.text) < GATE_SHARE for e in self.valid], dtype=bool
        )


@dataclass(frozen=True)
class TrainResult:
    version: str
    promoted: bool
    reason: str
    parent: str | None
    metrics: dict[str, Any]
    baseline: dict[str, Any] | None
    report: TrainReport | None
    seconds: float
    reranker_report: RerankerReport | None = None
    new_rows: int | None = None
    replay_rows: int | None = None
    timings: dict[str, float] = field(default_factory=dict)


def train(
    settings: Settings,
    data_dir: Path | None = None,
    warm_start: bool = False,
    epochs: int | None = None,
    promote: bool = True,
    force: bool = False,
    seed: int = 0,
    progress: bool = True,
    trainer_config: TrainerConfig | None = None,
    reranker_config: RerankerConfig | None = None,
) -> TrainResult:
    """`reranker_config`: train a reranker so, when the encoder is fine-tuned (a run with
    epochs 0 trains no network at all); None, or 0 steps: no reranker."""
    # The matchers built here for fusion features and the gate must not touch the indexes
    # of a server that runs meanwhile.
    with offline_settings(settings) as offline:
        return _train(
            offline,
            data_dir,
            warm_start,
            epochs,
            promote,
            force,
            seed,
            progress,
            trainer_config,
            reranker_config,
        )


def _train(
    settings: Settings,
    data_dir: Path | None,
    warm_start: bool,
    epochs: int | None,
    promote: bool,
    force: bool,
    seed: int,
    progress: bool,
    trainer_config: TrainerConfig | None,
    reranker_config: RerankerConfig | None,
) -> TrainResult:
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def clock(stage: str) -> contextlib.AbstractContextManager[None]:
        return _timed(timings, stage)

    models_dir = settings.models_dir

    data = load_training_data(settings, data_dir, seed)
    log.info(
        "training data from %s: %d parts, %d history texts, %d validation texts",
        data.source,
        len(data.parts),
        len(data.history),
        len(data.valid),
    )
    parent = current_version(models_dir)
    parent_model = open_version(models_dir, parent) if warm_start and parent else None
    if warm_start and parent_model is None:
        raise ModelError(f"--warm-start needs a current model in {models_dir}; there is none")
    epochs = DEFAULT_EPOCHS if epochs is None else epochs
    start_path = parent_model.encoder_path if parent_model else Path(settings.model_path)

    rows = training_rows(data.history)
    fine_tuning = epochs > 0 and any(e.sku for e in data.history)
    # Without fine-tuning the encoder has seen none of the history: every text can serve.
    tuned_on, fusion_texts = (
        split_by_hash(data.history, seed, FUSION_SHARE, purpose="fusion")
        if fine_tuning
        else (list(data.history), list(data.history))
    )
    anchors: list[Example] = tuned_on
    new_rows = replay_rows = None
    if parent_model is not None:
        anchors, new_rows, replay_rows = warm_start_anchors(parent_model, tuned_on, seed)
        log.info("warm start from %s: %d new rows, %d replayed", parent, new_rows, replay_rows)
    halves = data.cross_fit_halves(seed)

    config = trainer_config or TrainerConfig(
        seed=seed, progress=progress, max_steps_per_epoch=DEFAULT_MAX_STEPS
    )
    config = TrainerConfig(**{**asdict(config), "epochs": epochs})
    pair_config = PairConfig(seed=seed)
    report: TrainReport | None = None
    with tempfile.TemporaryDirectory(prefix="partmatch-train-") as work_name:
        work = Path(work_name)
        encoder_dir = start_path
        if fine_tuning and any(e.sku for e in anchors):
            with clock("fine_tune"):
                base = Encoder(start_path)
                base.preload(read_cache(settings.state_dir, base.fingerprint))
                triplets = mine_triplets(
                    data.parts,
                    tuned_on,
                    lambda texts: base.encode(texts, progress=progress),
                    pair_config,
                    anchors=anchors,
                )
                log.info("mined %d triplets from %d anchors", len(triplets), len(anchors))
                report = EncoderTrainer(config).train(base.model, triplets)
                encoder_dir = work / "encoder"
                base.model.save(str(encoder_dir))
                del base
        with clock("export"):
            # Fusion is fitted on the vectors the server will compute: from the export.
            export_encoder(settings.state_dir, encoder_dir)
        with clock("encode"):
            encoder = open_encoder(settings, encoder_dir, threads=os.cpu_count() or 1)
            encoder.preload(read_cache(settings.state_dir, encoder.fingerprint))
            vectors = encoder.encode([e.text for e in data.history], progress=progress)
            encoder.encode([p.catalog_text() for p in data.parts], progress=progress)
        with clock("head"):
            head = fit_head(vectors, [e.sku for e in data.history], c=HEAD_C, seed=seed)
            head.save(work / "head.npz")
        reranker: Reranker | None = None
        reranker_report: RerankerReport | None = None
        if fine_tuning and reranker_config is not None and reranker_config.steps > 0:
            with clock("reranker"):
                reranker_report = _train_reranker(
                    settings, encoder, data.parts, tuned_on, reranker_config, work / "reranker"
                )
                if reranker_report is not None:
                    reranker = Reranker(work / "reranker", threads=os.cpu_count() or 1)
        fusion_config: dict[str, Any] | None = None
        fusion_metrics: dict[str, float | None] = {}
        metrics: dict[str, Any]
        with clock("fusion"):
            fusion = _fit_fusion(
                settings, encoder, data, fusion_texts, halves, head, reranker, seed, progress
            )
            if fusion is not None:
                fusion_config, fusion_metrics = fusion
                (work / "fusion.json").write_text(json.dumps(fusion_config), encoding="utf-8")
        with clock("evaluate"):
            if fusion_metrics:
                metrics = _gate_metrics(fusion_metrics, data.valid, halves)
            else:
                # Nothing was fitted on valid: the model as built answers it.
                candidate = ModelVersion("candidate", work, {})
                matcher = build_matcher(
                    settings,
                    data.parts,
                    data.history,
                    model=candidate,
                    encoder=encoder,
                    head=head,
                    reranker=reranker,
                )
                metrics = evaluate(matcher, data.valid)
                matcher.close()
            baseline = measure_baseline(settings, parent, data, halves) if parent else None
        # The server encodes the whole catalog and history at load; with these vectors
        # cached under the new encoder's fingerprint, a reload of this version is quick.
        write_cache(settings.state_dir, encoder.fingerprint, encoder.known_vectors())

        metadata = {
            "base_model": (parent_model.metadata.get("base_model") if parent_model else None)
            or settings.model_path,
            "parent": parent,
            "warm_start": warm_start,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "data": {
                "source": data.source,
                "fingerprint": data_fingerprint(data.history),
                "rows": len(data.history),
                "rows_file": ROWS_FILE,
                "valid_rows": len(data.valid),
                # The gate's texts: what the stored acc@1 was measured on.
                "gate_rows": len(data.valid),
                "valid_fingerprint": data_fingerprint(data.valid),
                "fusion_rows": len(fusion_texts),
                "new_rows": new_rows,
                "replay_rows": replay_rows,
            },
            "params": {
                "epochs": epochs,
                "seed": seed,
                "trainer": asdict(config),
                "pairs": asdict(pair_config),
                "head": {"c": HEAD_C},
                "replay_ratio": REPLAY_RATIO if warm_start else None,
            },
            "metrics": metrics,
            "baseline": baseline,
            "train_report": report.to_dict() if report else None,
            "reranker_report": reranker_report.to_dict() if reranker_report else None,
            "encoder_fingerprint": encoder.fingerprint,
            "timings": timings,
            "training_seconds": round(time.perf_counter() - started, 2),
        }
        version = registry_admin.register(
            models_dir,
            encoder_dir,
            head,
            fusion_config,
            metadata,
            extra_files={ROWS_FILE: ("\n".join(sorted(rows)) + "\n").encode()},
            reranker=work / "reranker" if reranker is not None else None,
        )

    promoted, reason = False, "not promoted (--no-promote)"
    if promote:
        promotion = registry_admin.promote(models_dir, version, force=force)
        promoted, reason = promotion.promoted, promotion.reason
    return TrainResult(
        version=version,
        promoted=promoted,
        reason=reason,
        parent=parent,
        metrics=metrics,
        baseline=baseline,
        report=report,
        seconds=round(time.perf_counter() - started, 2),
        reranker_report=reranker_report,
        new_rows=new_rows,
        replay_rows=replay_rows,
        timings=timings,
    )


# -- data ------------------------------------------------------------------------------------


def load_training_data(settings: Settings, data_dir: Path | None, seed: int) -> TrainingData:
    """History and validation texts; never the test split."""
    if data_dir is not None:
        has_valid = (data_dir / "valid.csv").exists()
        dataset = load_dataset(data_dir, splits=("history", "valid") if has_valid else ("history",))
        if has_valid:
            return TrainingData(dataset.catalog, dataset.history, dataset.valid, str(data_dir))
        history, valid = holdout(dataset.history, seed)
        return TrainingData(dataset.catalog, history, valid, f"{data_dir} (10% held out)")
    store = SqliteCatalogStore(settings.catalog_db, settings.sqlite_synchronous)
    try:
        parts, examples = store.parts(), store.examples()
    finally:
        store.close()
    if not parts:
        raise ValueError(f"the catalog store {settings.catalog_db} is empty: run `partmatch index`")
    # Labels of retired parts cannot be served or checked; they stay in the store.
    active = {p.sku for p in parts}
    usable = [e for e in examples if e.sku is None or e.sku in active]
    if len(usable) < len(examples):
        log.info("%d examples of retired parts left out", len(examples) - len(usable))
    history, valid = holdout(usable, seed)
    return TrainingData(parts, history, valid, f"store {settings.catalog_db} (10% held out)")


def holdout(examples: Sequence[Example], seed: int) -> tuple[list[Example], list[Example]]:
    """A seeded ~10% for validation, by hash of the text: a text stays on its side as the
    store grows, so a later model is never validated on texts an earlier one trained on."""
    return split_by_hash(examples, seed, HOLDOUT_SHARE)


def split_by_hash(
    examples: Sequence[Example], seed: int, share: float, purpose: str = ""
) -> tuple[list[Example], list[Example]]:
    """(the rest, a seeded ~`share` of the texts) by a hash of each text, so a text lands on
    the same side in every run; `purpose` makes each split independent of the others."""
    rest: list[Example] = []
    taken: list[Example] = []
    for example in examples:
        (taken if _hash_fraction(seed, purpose, example.text) < share else rest).append(example)
    return rest, taken


def _hash_fraction(seed: int, purpose: str, text: str) -> float:
    """Where `text` falls in [0, 1) for this seed and purpose."""
    salt = f"{seed}\x00{purpose}\x00" if purpose else f"{seed}\x00"
    digest = hashlib.sha256(f"{salt}{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def row_key(example: Example) -> str:
    return hashlib.sha256(f"{example.text}\t{example.sku or ''}".encode()).hexdigest()[:16]


def training_rows(history: Sequence[Example]) -> set[str]:
    return {row_key(e) for e in history}


def data_fingerprint(examples: Sequence[Example]) -> str:
    """sha256 of the sorted (text, sku) rows: the same rows in any order, the same print."""
    digest = hashlib.sha256()
    for text, sku in sorted((e.text, e.sku or "") for e in examples):
        digest.update(f"{text}\t{sku}\n".encode())
    return digest.hexdigest()


def warm_start_anchors(
    parent: ModelVersion, history: Sequence[Example], seed: int
) -> tuple[list[Example], int, int]:
    """The rows the parent did not train on, plus a seeded replay of rows it did."""
    rows_file = parent.path / ROWS_FILE
    if not rows_file.is_file():
        raise ModelError(
            f"model {parent.version} has no {ROWS_FILE}: its training data is unknown, "
            "so a warm start cannot tell new rows from old; train without --warm-start"
        )
    seen = set(rows_file.read_text(encoding="utf-8").split())
    new = [e for e in history if row_key(e) not in seen]
    old = [e for e in history if row_key(e) in seen]
    labelled_new = [e for e in new if e.sku]
    replay_size = min(len(old), round(REPLAY_RATIO * len(labelled_new)))
    replay = random.Random(seed).sample(old, replay_size) if replay_size else []
    return new + replay, len(new), len(replay)


# -- evaluation ------------------------------------------------------------------------------


def evaluate(matcher: Matcher, examples: Sequence[Example]) -> dict[str, Any]:
    """Validation figures of the whole matcher, as a customer would see its answers.

    acc@1: the answer is right - the top SKU for a text that names a part, NO_MATCH for a
    text that names none (indexer.metrics.top1_accuracy's convention, with NO_MATCH as "nothing
    ranked"). recall@1: the top SKU is right, among texts that name a part, whatever the
    decision.
    """
    answers: list[list[str]] = []
    tops: list[list[str]] = []
    limit = matcher.limits.max_text_chars
    for example in examples:
        result = matcher.match(example.text[:limit], top_k=1)
        top = [result.candidates[0].sku] if result.candidates else []
        tops.append(top)
        answers.append([] if result.decision is Decision.NO_MATCH else top)
    gold = [e.sku for e in examples]
    return {
        "acc@1": round(top1_accuracy(answers, gold), 5),
        "recall@1": _rounded(recall_at(tops, gold, 1)),
        "texts": len(examples),
    }


def measure_baseline(
    settings: Settings, version: str, data: TrainingData, halves: np.ndarray
) -> dict[str, Any] | None:
    """The current model's figures on this run's validation texts, graded as the new model's
    are: the gate's fair reference."""
    from indexer.fusion_training import DecisionFit, cross_fitted, top_answers

    try:
        model = open_version(settings.models_dir, version)
        encoder = load_encoder(settings, model)
        matcher = build_matcher(settings, data.parts, data.history, model=model, encoder=encoder)
    except (ModelError, OSError, ValueError) as exc:
        log.warning(
            "current model %s not measured (the gate uses its stored figures): %s", version, exc
        )
        return None
    try:
        if not isinstance(matcher.fusion, LearnedFusion):
            # Its thresholds were not fitted on validation texts: it answers them as served.
            return {"version": version, **evaluate(matcher, data.valid)}
        # Its calibration and thresholds may have been fitted on these very texts: refitted
        # per half, as the new model's are, it is graded on texts its fit did not see.
        fit = DecisionFit(
            settings.target_precision,
            learned_no_part=matcher.fusion.nomatch is not None,
            fallback_cut=matcher.policy.nomatch_cut,
        )
        answers = top_answers(matcher, data.valid)
        figures = cross_fitted(answers, halves, fit)
        return {"version": version, **_gate_metrics(figures, data.valid, halves)}
    finally:
        matcher.close()


def _gate_metrics(
    figures: dict[str, float | None], valid: Sequence[Example], halves: np.ndarray
) -> dict[str, Any]:
    """What the gate compares, and on what: acc@1 cross-fitted over all of valid."""
    from indexer.fusion_training import two_sided

    return {
        "acc@1": _rounded(figures["acc@1"]),
        "recall@1": _rounded(figures["recall@1"]),
        "texts": len(valid),
        "graded": "cross-fitted" if two_sided(halves) else "in-sample",
        "fusion": {key: _rounded(value) for key, value in figures.items()},
    }


def _fit_fusion(
    settings: Settings,
    encoder: Encoder,
    data: TrainingData,
    fusion_texts: Sequence[Example],
    halves: np.ndarray,
    head: Any,
    reranker: Reranker | None,
    seed: int,
    progress: bool,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    from indexer.fusion_training import fit_fusion

    if not data.valid:
        log.warning("no validation texts: learned fusion skipped, weighted fusion is used")
        return None
    report = fit_fusion(
        settings,
        encoder,
        data.parts,
        data.history,
        data.valid,
        head=head,
        seed=seed,
        progress=progress,
        feature_texts=fusion_texts,
        halves=halves,
        reranker=reranker,
    )
    return dict(report.config), dict(report.metrics)


def _train_reranker(
    settings: Settings,
    encoder: Encoder,
    parts: Sequence[Part],
    anchors: Sequence[Example],
    config: RerankerConfig,
    out: Path,
) -> RerankerReport | None:
    """Trains a cross-encoder from the base model on `anchors` against the candidates a
    matcher without history proposes for them (what parts without history face), and writes
    its export to `out`; None (and no reranker) where no anchor has another candidate."""
    proposer = build_matcher(settings, parts, [], encoder=encoder, lexical=BM25Signal())
    try:
        groups = mine_groups(
            parts, anchors, lambda e: proposer.shortlist(e.text, e.vehicle), config
        )
    finally:
        proposer.close()
    if not groups:
        log.warning("no reranker: no labelled text has a candidate besides its own part")
        return None
    model, tokenizer = base_reranker(settings.model_path, config.seed)
    report = RerankerTrainer(config).train(model, tokenizer, groups)
    log.info(
        "reranker: %d groups, %d steps in %.0f s, loss %.3f -> %.3f",
        report.groups,
        report.steps,
        report.seconds,
        report.first_loss,
        report.last_loss,
    )
    export_reranker(model, tokenizer, out, config.max_length)
    return report


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 5)


@contextlib.contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Wall seconds per pipeline stage, for the version's metadata and the CLI summary."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round(time.perf_counter() - started, 2)
