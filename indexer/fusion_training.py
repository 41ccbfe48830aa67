"""Training the learned fusion, its calibration and the decision thresholds.

- Fusion: logistic regression on candidate features, fitted on out-of-fold history: for each
  fold, the history-based signals (BM25 over history, embedding neighbours, the classifier
  head) are rebuilt without that fold, so the features look like those of unseen texts. The
  folds are drawn from `feature_texts`: when the encoder was fine-tuned, the history texts it
  was not trained on (indexer.train keeps a share out), so that the semantic and classifier
  features are those of text the encoder never saw, too.
- Calibration: isotonic regression of "the top answer is right" on the validation texts.
- Thresholds, on the validation texts only: AUTO_ACCEPT at the lowest confidence whose
  accepted answers reach the target precision; NO_MATCH where P(names no part) maximises F1.
The test split is never seen here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from indexer.head_training import fit_head
from indexer.metrics import coverage_precision_curve, expected_calibration_error
from matcher.app import build_matcher, lexical_signal
from matcher.catalog import Part
from matcher.config import Settings
from matcher.decision import Decision, DecisionPolicy
from matcher.encoder import Encoder
from matcher.engine import Matcher
from matcher.examples import Example
from matcher.fusion import (
    FEATURES,
    NOMATCH_FEATURES,
    Calibration,
    LearnedFusion,
    Linear,
    candidate_features,
    feature_rows,
    nomatch_features,
)
from matcher.fusion_file import fusion_document
from matcher.head import Head
from matcher.signals.base import Signal


@dataclass(frozen=True)
class FusionReport:
    config: dict[str, Any]
    metrics: dict[str, float | None]
    fusion: LearnedFusion
    policy: DecisionPolicy


@dataclass
class _Rows:
    x: list[np.ndarray] = field(default_factory=list)
    y: list[np.ndarray] = field(default_factory=list)
    query: list[dict[str, float]] = field(default_factory=list)
    nopart: list[bool] = field(default_factory=list)


def fit_fusion(
    settings: Settings,
    encoder: Encoder,
    parts: Sequence[Part],
    history: Sequence[Example],
    valid: Sequence[Example],
    head: Head | None = None,
    folds: int = 4,
    seed: int = 0,
    target_precision: float | None = None,
    lexical: Callable[[], Signal] | None = None,
    progress: bool = True,
    feature_texts: Sequence[Example] | None = None,
) -> FusionReport:
    target = target_precision or settings.target_precision
    encoder.encode([e.text for e in (*history, *valid)] + [p.catalog_text() for p in parts])

    # The lexical backend the service will run with (Elasticsearch when ES_URL is set): its
    # scores are on its own scale, and the fusion must learn that scale.
    make_lexical = lexical or (lambda: lexical_signal(settings))

    def matcher_for(train: Sequence[Example], fold_head: Head | None) -> Matcher:
        return build_matcher(
            settings, parts, train, encoder=encoder, lexical=make_lexical(), head=fold_head
        )

    rows = _Rows()
    # Indexes into `history` of the texts whose features the fusion learns from.
    if feature_texts is None:
        pool = list(range(len(history)))
    else:
        wanted = {(e.text, e.sku) for e in feature_texts}
        pool = [i for i, e in enumerate(history) if (e.text, e.sku) in wanted]
    order = list(pool)
    random.Random(seed).shuffle(order)
    for fold in tqdm(range(folds), desc="fusion folds", disable=not progress):
        held = {order[i] for i in range(fold, len(order), folds)}
        train = [e for i, e in enumerate(history) if i not in held]
        matcher = matcher_for(train, _head_or_none(encoder, train))
        for i in sorted(held):
            _collect(matcher, history[i], rows)
        matcher.close()

    scorer = _fit_scorer(rows, seed)
    nomatch = _fit_nomatch(rows, scorer, seed)
    uncalibrated = LearnedFusion(scorer, Calibration(np.zeros(0), np.zeros(0)), nomatch)

    final = matcher_for(history, head if head is not None else _head_or_none(encoder, history))
    final.fusion = uncalibrated
    top, correct, nomatch_p, is_nopart = _top_answers(final, valid)
    calibration = _fit_calibration(top, correct)
    fusion = LearnedFusion(scorer, calibration, nomatch)
    confidence = calibration(top)
    policy = DecisionPolicy(
        accept_threshold=choose_accept_threshold(confidence, correct, target),
        nomatch_threshold=0.0,
        nomatch_cut=_choose_nomatch_cut(nomatch_p, is_nopart),
    )
    final.close()
    metrics = decision_metrics(confidence, correct, nomatch_p, is_nopart, policy)
    config = fusion_document(fusion, policy, target)
    return FusionReport(config=config, metrics=metrics, fusion=fusion, policy=policy)


def _head_or_none(encoder: Encoder, examples: Sequence[Example]) -> Head | None:
    if len({e.sku for e in examples}) < 2:
        return None
    return fit_head(encoder.encode([e.text for e in examples]), [e.sku for e in examples])


def _collect(matcher: Matcher, example: Example, rows: _Rows) -> None:
    hits, _ = matcher.hits(example.text)
    skus, matrix, query = feature_rows(candidate_features(hits))
    rows.x.append(matrix)
    rows.y.append(np.asarray([sku == example.sku for sku in skus], dtype=bool))
    rows.query.append(query)
    rows.nopart.append(example.sku is None)


def _fit_scorer(rows: _Rows, seed: int) -> Linear:
    x = np.vstack([m for m in rows.x if len(m)])
    y = np.concatenate([v for v in rows.y if len(v)])
    if y.all() or not y.any():
        raise ValueError("fusion training needs both right and wrong candidates in the history")
    model = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    model.fit(x, y)
    return Linear(FEATURES, model.coef_[0].astype(float), float(model.intercept_[0]))


def _nomatch_matrix(rows: _Rows, scorer: Linear) -> np.ndarray:
    return np.asarray(
        [
            nomatch_features(scorer.predict(matrix) if len(matrix) else np.zeros(0), query)
            for matrix, query in zip(rows.x, rows.query, strict=True)
        ],
        dtype=float,
    )


def _fit_nomatch(rows: _Rows, scorer: Linear, seed: int) -> Linear | None:
    labels = np.asarray(rows.nopart, dtype=bool)
    # Without texts that name no part, there is nothing to learn "no part" from.
    if labels.sum() < 5 or labels.all():
        return None
    model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced", random_state=seed)
    model.fit(_nomatch_matrix(rows, scorer), labels)
    return Linear(NOMATCH_FEATURES, model.coef_[0].astype(float), float(model.intercept_[0]))


def _top_answers(
    matcher: Matcher, examples: Sequence[Example]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per text: uncalibrated top confidence, whether the top is right, P(no part)."""
    top, correct, nomatch, nopart = [], [], [], []
    for example in examples:
        result = matcher.match(example.text, top_k=1)
        best = result.candidates[0] if result.candidates else None
        top.append(best.confidence if best else 0.0)
        correct.append(best is not None and best.sku == example.sku)
        nomatch.append((result.nomatch_probability or 0.0) if best else 1.0)
        nopart.append(example.sku is None)
    return (np.asarray(top), np.asarray(correct), np.asarray(nomatch), np.asarray(nopart))


def _fit_calibration(top: np.ndarray, correct: np.ndarray) -> Calibration:
    isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    isotonic.fit(top, correct.astype(float))
    return Calibration(
        np.asarray(isotonic.X_thresholds_, float), np.asarray(isotonic.y_thresholds_, float)
    )


def choose_accept_threshold(confidence: np.ndarray, correct: np.ndarray, target: float) -> float:
    """The lowest threshold whose accepted answers (confidence >= it) reach the target
    precision; 1.0 (accept nothing) when no threshold does."""
    _, precision, thresholds = coverage_precision_curve(confidence, correct)
    reaching = thresholds[precision >= target]
    return float(reaching.min()) if len(reaching) else 1.0


def _choose_nomatch_cut(nomatch_p: np.ndarray, is_nopart: np.ndarray) -> float:
    if not is_nopart.any():
        return 1.01  # never: the history taught nothing about texts that name no part
    best_cut, best_f1 = 1.01, 0.0
    for cut in np.unique(nomatch_p):
        predicted = nomatch_p >= cut
        tp = float((predicted & is_nopart).sum())
        if tp == 0:
            continue
        f1 = 2 * tp / (predicted.sum() + is_nopart.sum())
        if f1 > best_f1:
            best_cut, best_f1 = float(cut), f1
    return best_cut


def decision_metrics(
    confidence: np.ndarray,
    correct: np.ndarray,
    nomatch_p: np.ndarray,
    is_nopart: np.ndarray,
    policy: DecisionPolicy,
) -> dict[str, float | None]:
    n = len(confidence)
    decisions = [
        policy.decide_top(float(c), float(p)) for c, p in zip(confidence, nomatch_p, strict=True)
    ]
    accepted = np.asarray([d is Decision.AUTO_ACCEPT for d in decisions])
    said_nomatch = np.asarray([d is Decision.NO_MATCH for d in decisions])
    return {
        "acc@1": float(correct.mean()) if n else None,
        "automation": float(accepted.mean()) if n else None,
        "auto_precision": float(correct[accepted].mean()) if accepted.any() else None,
        "ece": expected_calibration_error(confidence, correct),
        "nomatch_recall": float(said_nomatch[is_nopart].mean()) if is_nopart.any() else None,
        "accept_threshold": policy.accept_threshold,
    }
