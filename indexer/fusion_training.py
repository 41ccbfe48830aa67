"""Training the learned fusion, its calibration and the decision thresholds.

- Fusion: logistic regression on candidate features, fitted on out-of-fold history: for each
  fold, the history-based signals (BM25 over history, embedding neighbours, the classifier
  head) are rebuilt without that fold, so the features look like those of unseen texts. The
  folds are drawn from `feature_texts`: when the encoder was fine-tuned, the history texts it
  was not trained on (indexer.train keeps a share out), so that the semantic and classifier
  features are those of text the encoder never saw, too.
- Calibration: isotonic regression of "the top answer is right" on the validation texts.
- No-part model: logistic regression on query-level evidence, fitted on the same folds. Each
  fold also hides a few parts from its catalog, so their texts teach what a request for a
  product the catalog does not carry looks like, even when history has no no-part text.
- Parts without history: each fold also keeps a few other parts in its catalog but drops all
  of their labelled texts, so the fusion learns how a right answer without history looks
  (catalog evidence only), as most of a real catalog's parts are.
- Thresholds, on the validation texts only: AUTO_ACCEPT at the lowest confidence whose
  accepted answers reach the target precision with 90% confidence (ACCEPT_LEVEL); NO_MATCH
  at the lowest P(names no part) whose answers reach NOMATCH_PRECISION (on the out-of-fold
  rows when valid has no no-part text, then raised until it flags none of valid's texts:
  FALLBACK_FALSE_NOMATCH).
- Cross-fitting: the deployed calibration and thresholds are fitted on all of valid; the
  figures reported (and gated on) grade each half of valid with calibration and thresholds
  fitted on the other half, so no text is graded by a fit it took part in.
The test split is never seen here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import beta
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from indexer.head_training import fit_head
from indexer.metrics import acceptance_counts, expected_calibration_error
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
from matcher.ranking import held_for_review
from matcher.reranker import Reranker
from matcher.signals.base import Signal

# A no-part cut above every probability: nothing is ever NO_MATCH.
NEVER_NOMATCH = 1.01


@dataclass(frozen=True)
class TopAnswers:
    """Per validation text, what its decision is made from: the top answer's confidence,
    whether that answer is right, P(names no part), whether the text names no part, and
    whether the top answer is held for review whatever its confidence."""

    confidence: np.ndarray
    correct: np.ndarray
    nomatch_p: np.ndarray
    nopart: np.ndarray
    held: np.ndarray

    def __len__(self) -> int:
        return len(self.confidence)

    def take(self, mask: np.ndarray) -> TopAnswers:
        return TopAnswers(
            self.confidence[mask],
            self.correct[mask],
            self.nomatch_p[mask],
            self.nopart[mask],
            self.held[mask],
        )


@dataclass(frozen=True)
class DecisionFit:
    """Fits calibration, the accept threshold and the no-part cut to validation answers."""

    target_precision: float
    # Whether the model has a no-part model at all: without one, nothing is ever NO_MATCH.
    learned_no_part: bool = True
    # The cut where the answers fitted on include no text that names no part: chosen on the
    # out-of-fold rows, or for a served model the cut it was fitted with.
    fallback_cut: float = NEVER_NOMATCH

    def __call__(self, answers: TopAnswers) -> tuple[Calibration, DecisionPolicy]:
        calibration = _fit_calibration(answers.confidence, answers.correct)
        confidence = calibration(answers.confidence)
        free = ~answers.held
        if not self.learned_no_part:
            cut = NEVER_NOMATCH
        elif answers.nopart.any():
            cut = choose_nomatch_cut(answers.nomatch_p, answers.nopart)
        else:
            cut = max(
                self.fallback_cut, flagging_at_most(answers.nomatch_p, FALLBACK_FALSE_NOMATCH)
            )
        policy = DecisionPolicy(
            # Held answers are never accepted, whatever the threshold: it is chosen on the others.
            accept_threshold=choose_accept_threshold(
                confidence[free], answers.correct[free], self.target_precision
            ),
            nomatch_threshold=0.0,
            nomatch_cut=cut,
        )
        return calibration, policy


@dataclass(frozen=True)
class FusionReport:
    config: dict[str, Any]
    # Validation figures, cross-fitted (see cross_fitted) where valid has two halves.
    metrics: dict[str, float | None]
    fusion: LearnedFusion
    policy: DecisionPolicy


# Share of the parts named in a fold's held-out texts that the fold's catalog hides.
HIDDEN_PART_SHARE = 0.15
# Share of the parts named in a fold's held-out texts whose history the fold drops.
UNSEEN_PART_SHARE = 0.15
# The accept threshold is estimated on the validation texts, and the lowest one whose precision
# there reaches the target is, of those that pass, the one whose errors luck hid most: on a
# small valid set (a store's first few hundred resolved texts) it overshoots on new text. The
# threshold must reach the target with this confidence instead, so the fewer the texts, the
# stricter it is; with a thousand (banking77) it lands where the point estimate does.
ACCEPT_LEVEL = 0.9
# NO_MATCH tells a customer the shop has no such part: it must be right this often.
NOMATCH_PRECISION = 0.9
# Where the validation texts all name a part, the no-part cut comes from the out-of-fold rows
# (hidden parts' texts), a stand-in whose evidence can look unlike the shop's real traffic
# (abt-buy without model numbers: 19% of its texts NO_MATCH). Valid then bounds the cut: it may
# flag at most this share of valid's texts, every one of them wrongly. A false NO_MATCH tells
# a customer the shop lacks a part it has, so the bound is none.
FALLBACK_FALSE_NOMATCH = 0.0


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
    halves: np.ndarray | None = None,
    reranker: Reranker | None = None,
) -> FusionReport:
    """`halves`: which validation texts form the first half of the cross-fit (None, or a
    side without texts: the figures are graded on the texts they were fitted to, and say so)."""
    target = target_precision or settings.target_precision
    encoder.encode([e.text for e in (*history, *valid)] + [p.catalog_text() for p in parts])

    # The lexical backend the service will run with (Elasticsearch when ES_URL is set): its
    # scores are on its own scale, and the fusion must learn that scale.
    make_lexical = lexical or (lambda: lexical_signal(settings))

    def matcher_for(
        train: Sequence[Example], fold_head: Head | None, catalog: Sequence[Part] = parts
    ) -> Matcher:
        return build_matcher(
            settings,
            catalog,
            train,
            encoder=encoder,
            lexical=make_lexical(),
            head=fold_head,
            reranker=reranker,
        )

    rows = _Rows()
    # Indexes into `history` of the texts whose features the fusion learns from.
    if feature_texts is None:
        pool = list(range(len(history)))
    else:
        wanted = {(e.text, e.sku) for e in feature_texts}
        pool = [i for i, e in enumerate(history) if (e.text, e.sku) in wanted]
    order = list(pool)
    rng = random.Random(seed)
    rng.shuffle(order)
    for fold in tqdm(range(folds), desc="fusion folds", disable=not progress):
        held_out = {order[i] for i in range(fold, len(order), folds)}
        # Parts hidden from this fold's catalog: their held-out texts name no part the fold
        # knows of, as a request for a product the catalog does not carry does, so the
        # no-part model learns even from a history without a single no-part text.
        hidden, unseen = _fold_parts([history[i] for i in held_out], rng)
        catalog = [p for p in parts if p.sku not in hidden]
        train = [
            e
            for i, e in enumerate(history)
            if i not in held_out and e.sku not in hidden and e.sku not in unseen
        ]
        matcher = matcher_for(train, _head_or_none(encoder, train), catalog)
        for i in sorted(held_out):
            example = history[i]
            _collect(matcher, example, rows, names_no_part=example.sku in hidden)
        matcher.close()

    scorer = _fit_scorer(rows, seed)
    nomatch = _fit_nomatch(rows, scorer, seed)
    uncalibrated = LearnedFusion(scorer, Calibration(np.zeros(0), np.zeros(0)), nomatch)

    final = matcher_for(history, head if head is not None else _head_or_none(encoder, history))
    final.fusion = uncalibrated
    answers = top_answers(final, valid)
    final.close()
    fit = DecisionFit(
        target,
        learned_no_part=nomatch is not None,
        # Valid has no text that names no part: the cut is chosen on the out-of-fold rows
        # instead, where the hidden parts' texts stand in for them (real no-part texts, where
        # valid has any, say more).
        fallback_cut=(
            choose_nomatch_cut(nomatch.predict(_nomatch_matrix(rows, scorer)), _nopart_labels(rows))
            if nomatch is not None
            else NEVER_NOMATCH
        ),
    )
    calibration, policy = fit(answers)
    fusion = LearnedFusion(scorer, calibration, nomatch)
    metrics = cross_fitted(answers, halves, fit)
    config = fusion_document(fusion, policy, target)
    return FusionReport(config, metrics, fusion, policy)


def _head_or_none(encoder: Encoder, examples: Sequence[Example]) -> Head | None:
    if len({e.sku for e in examples}) < 2:
        return None
    return fit_head(encoder.encode([e.text for e in examples]), [e.sku for e in examples])


def _fold_parts(held_out: Sequence[Example], rng: random.Random) -> tuple[set[str], set[str]]:
    """(parts the fold's catalog hides, other parts whose labelled texts the fold drops), both
    drawn from the parts its held-out texts name."""
    named = sorted({e.sku for e in held_out if e.sku is not None})
    if len(named) <= 2:
        return set(), set()
    drawn = rng.sample(named, len(named))
    hidden = max(1, round(HIDDEN_PART_SHARE * len(named)))
    unseen = round(UNSEEN_PART_SHARE * len(named))
    return set(drawn[:hidden]), set(drawn[hidden : hidden + unseen])


def _collect(matcher: Matcher, example: Example, rows: _Rows, names_no_part: bool) -> None:
    hits, _ = matcher.hits(example.text, vehicle=example.vehicle)
    skus, matrix, query = feature_rows(candidate_features(hits))
    rows.x.append(matrix)
    rows.y.append(np.asarray([sku == example.sku for sku in skus], dtype=bool))
    rows.query.append(query)
    rows.nopart.append(example.sku is None or names_no_part)


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
            nomatch_features(scorer.predict(matrix) if len(matrix) else np.zeros(0), matrix, query)
            for matrix, query in zip(rows.x, rows.query, strict=True)
        ],
        dtype=float,
    )


def _fit_nomatch(rows: _Rows, scorer: Linear, seed: int) -> Linear | None:
    labels = _nopart_labels(rows)
    # Without texts that name no part, there is nothing to learn "no part" from.
    if labels.sum() < 5 or labels.all():
        return None
    model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced", random_state=seed)
    model.fit(_nomatch_matrix(rows, scorer), labels)
    return Linear(NOMATCH_FEATURES, model.coef_[0].astype(float), float(model.intercept_[0]))


def top_answers(matcher: Matcher, examples: Sequence[Example]) -> TopAnswers:
    """What `matcher` answers each text with, as its decision would see it (a text with
    nothing ranked has P(no part) 1)."""
    top, correct, nomatch, nopart, held = [], [], [], [], []
    for example in examples:
        result = matcher.match(example.text, top_k=1, vehicle=example.vehicle)
        best = result.candidates[0] if result.candidates else None
        top.append(best.confidence if best else 0.0)
        correct.append(best is not None and best.sku == example.sku)
        nomatch.append((result.nomatch_probability or 0.0) if best else 1.0)
        nopart.append(example.sku is None)
        held.append(best is not None and held_for_review(best.features))
    return TopAnswers(
        np.asarray(top, dtype=float),
        np.asarray(correct, dtype=bool),
        np.asarray(nomatch, dtype=float),
        np.asarray(nopart, dtype=bool),
        np.asarray(held, dtype=bool),
    )


def cross_fitted(
    answers: TopAnswers, halves: np.ndarray | None, fit: DecisionFit
) -> dict[str, float | None]:
    """Validation figures with each half graded by calibration and thresholds fitted on the
    other half: what a fit on all the texts (the deployed one) does on texts it has not seen,
    estimated without grading any text by a fit it took part in. Where a half is empty
    (`two_sided` is false), the texts are graded by a fit on themselves."""
    n = len(answers)
    first = np.zeros(n, dtype=bool) if halves is None else np.asarray(halves, dtype=bool)
    split = two_sided(first)
    confidence = np.zeros(n)
    decisions = np.empty(n, dtype=object)
    for graded in (first, ~first) if split else (np.ones(n, dtype=bool),):
        calibration, policy = fit(answers.take(~graded if split else graded))
        confidence[graded] = calibration(answers.confidence[graded])
        decisions[graded] = [
            policy.decide_top(float(c), float(p), bool(h))
            for c, p, h in zip(
                confidence[graded], answers.nomatch_p[graded], answers.held[graded], strict=True
            )
        ]
    return decision_metrics(answers, confidence, list(decisions))


def _fit_calibration(top: np.ndarray, correct: np.ndarray) -> Calibration:
    # Just below 1.0: a block of answers that were all right would otherwise come out at 1.0,
    # and an accept threshold of 1.0 (none passes) would still accept it.
    isotonic = IsotonicRegression(y_min=0.0, y_max=np.nextafter(1.0, 0.0), out_of_bounds="clip")
    isotonic.fit(top, correct.astype(float))
    return Calibration(
        np.asarray(isotonic.X_thresholds_, float), np.asarray(isotonic.y_thresholds_, float)
    )


def choose_accept_threshold(
    confidence: np.ndarray, correct: np.ndarray, target: float, level: float = ACCEPT_LEVEL
) -> float:
    """The lowest threshold whose accepted answers (confidence >= it) reach the target
    precision with probability `level`: the one-sided Clopper-Pearson lower bound of their
    precision is at least the target. 1.0 (accept nothing) when no threshold does."""
    accepted, right, thresholds = acceptance_counts(confidence, correct)
    # The lower bound of a binomial proportion with `right` successes in `accepted` trials;
    # none right: 0.
    bound = np.where(right > 0, beta.ppf(1.0 - level, right, accepted - right + 1), 0.0)
    reaching = thresholds[bound >= target]
    return float(reaching.min()) if len(reaching) else 1.0


def choose_nomatch_cut(nomatch_p: np.ndarray, is_nopart: np.ndarray) -> float:
    """The lowest cut whose NO_MATCH answers reach NOMATCH_PRECISION (the most no-part texts
    recognised at that precision); where none does, the cut with the best F1."""
    if not is_nopart.any():
        return NEVER_NOMATCH  # nothing taught what a text that names no part looks like
    best_cut, best_f1, precise_cut = NEVER_NOMATCH, 0.0, None
    for cut in np.unique(nomatch_p)[::-1]:
        predicted = nomatch_p >= cut
        tp = float((predicted & is_nopart).sum())
        if tp == 0:
            continue
        if tp / predicted.sum() >= NOMATCH_PRECISION:
            precise_cut = float(cut)
        f1 = 2 * tp / (predicted.sum() + is_nopart.sum())
        if f1 > best_f1:
            best_cut, best_f1 = float(cut), f1
    return precise_cut if precise_cut is not None else best_cut


def flagging_at_most(nomatch_p: np.ndarray, share: float) -> float:
    """The lowest cut that flags at most `share` of these texts (P(no part) >= cut)."""
    if not len(nomatch_p):
        return 0.0
    allowed = int(share * len(nomatch_p))
    if allowed >= len(nomatch_p):
        return 0.0
    highest = np.sort(nomatch_p)[::-1]
    return float(np.nextafter(highest[allowed], np.inf))


def _nopart_labels(rows: _Rows) -> np.ndarray:
    return np.asarray(rows.nopart, dtype=bool)


def two_sided(halves: np.ndarray | None) -> bool:
    """Whether a cross-fit over `halves` has texts on both sides."""
    return halves is not None and bool(np.any(halves) and not np.all(halves))


def decision_metrics(
    answers: TopAnswers, confidence: np.ndarray, decisions: Sequence[Decision]
) -> dict[str, float | None]:
    """acc@1 counts the answer a customer gets: the top part, or NO_MATCH for a text that
    names no part (train.evaluate's convention); recall@1 is the top part on texts that name
    one, whatever the decision."""
    n = len(answers)
    accepted = np.asarray([d is Decision.AUTO_ACCEPT for d in decisions], dtype=bool)
    said_nomatch = np.asarray([d is Decision.NO_MATCH for d in decisions], dtype=bool)
    right = np.where(said_nomatch, answers.nopart, answers.correct)
    named = ~answers.nopart
    return {
        "acc@1": float(right.mean()) if n else None,
        "recall@1": float(answers.correct[named].mean()) if named.any() else None,
        "automation": float(accepted.mean()) if n else None,
        "auto_precision": float(answers.correct[accepted].mean()) if accepted.any() else None,
        "wrong_auto_rate": float((accepted & ~answers.correct).mean()) if n else None,
        "ece": expected_calibration_error(confidence, answers.correct),
        "nomatch_recall": (
            float(said_nomatch[answers.nopart].mean()) if answers.nopart.any() else None
        ),
        "nomatch_precision": (
            float(answers.nopart[said_nomatch].mean()) if said_nomatch.any() else None
        ),
    }
