"""Fusing the signals' hits into one ranking with a confidence per candidate.

`WeightedFusion` is the simple default: a weighted mean of signal scores. `LearnedFusion`
(trained offline by indexer.fusion_training) replaces it when a fitted model is present.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from matcher.ranking import Ranked, Ranking
from matcher.reranker import RERANK
from matcher.signals.base import Hit

# The reranker scores only a shortlist of the others' candidates (matcher/reranker), but its
# score is evidence of the same kind: a candidate it did not score gets 0, as with any signal.
SIGNALS = ("lexical", "fuzzy", "code", "semantic", "classifier", RERANK)
# Not a signal: the matcher's check of every proposed candidate against the request — the
# attributes the customer stated (matcher/attributes), the share of the request it explains
# (matcher/coverage); its hits carry only features.
CANDIDATE_CHECK = "check"


class Fusion(Protocol):
    @property
    def name(self) -> str: ...

    def rank(self, hits: Mapping[str, Sequence[Hit]]) -> Ranking: ...


def candidate_features(hits: Mapping[str, Sequence[Hit]]) -> dict[str, dict[str, float]]:
    """Per candidate SKU: each signal's score and reciprocal rank, plus finer evidence.

    A SKU absent from a signal's hits gets 0 for it: that signal did not rank it.
    """
    features: dict[str, dict[str, float]] = {}
    for signal, signal_hits in hits.items():
        if signal == CANDIDATE_CHECK:
            for hit in signal_hits:
                features.setdefault(hit.sku, {}).update(hit.features)
            continue
        reciprocal = f"{signal}_rr"
        for rank, hit in enumerate(signal_hits, start=1):
            row = features.setdefault(hit.sku, {})
            row[signal] = hit.score
            row[reciprocal] = 1.0 / rank
            row.update(hit.features)
    return features


def signal_scores(row: Mapping[str, float]) -> dict[str, float]:
    """Each signal's score among a candidate's features, as the API reports it."""
    return {s: round(float(row.get(s, 0.0)), 6) for s in SIGNALS if s in row}


@dataclass
class WeightedFusion:
    """Weighted mean of signal scores; weights of signals that returned nothing still count,
    so a part found by one signal alone ranks below one that several signals agree on."""

    weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "lexical": 0.25,
            "fuzzy": 0.2,
            "code": 0.15,
            "semantic": 0.4,
            "classifier": 0.4,
        }
    )
    name: str = "weighted"

    def rank(self, hits: Mapping[str, Sequence[Hit]]) -> Ranking:
        total = sum(w for s, w in self.weights.items() if s in hits) or 1.0
        ranked = []
        for sku, row in candidate_features(hits).items():
            fused = sum(self.weights.get(s, 0.0) * row.get(s, 0.0) for s in hits) / total
            # A matching part number is near-certain evidence on its own.
            confidence = max(fused, 0.9 * row.get("code", 0.0))
            ranked.append(Ranked(sku, min(1.0, confidence), row))
        ranked.sort(key=lambda r: (-r.confidence, r.sku))
        return Ranking(ranked)


# Candidate features of the learned fusion, in the order of its coefficients. "*_gap" is the
# candidate's score minus the best score of that signal for the query: it tells the model
# whether the candidate wins or loses on that signal, which raw scores alone do not.
SUB_FEATURES = (
    "bm25_catalog",
    "bm25_history",
    "fuzzy_wratio",
    "fuzzy_token_set",
    "sem_catalog",
    "sem_history",
    "knn_vote",
    # Stated attributes the candidate agrees / conflicts with; a part number one character off.
    "attr_agree",
    "attr_conflict",
    "code_near",
    # The text holds a number, and this candidate's own numbers are others.
    "code_other",
    # Share of the request's words the candidate explains (matcher/coverage).
    "coverage",
    # The part has no labelled text: the history-based evidence (classifier, neighbours, BM25
    # over history) cannot exist for it, and its absence says nothing against the part.
    "unseen",
)
# The catalog-based evidence of a part without history, as features of their own, so that the
# fusion weighs them for such parts as it learned to from parts whose history a fold hid.
UNSEEN_EVIDENCE = ("lexical", "lexical_rr", "fuzzy", "sem_catalog", "semantic_rr", RERANK)
FEATURES = (
    *SIGNALS,
    *(f"{s}_rr" for s in SIGNALS),
    *SUB_FEATURES,
    *(f"{s}_gap" for s in SIGNALS),
    *(f"{s}_unseen" for s in UNSEEN_EVIDENCE),
)
_COVERAGE = FEATURES.index("coverage")
_CONFLICT = FEATURES.index("attr_conflict")
# Where feature_rows writes each feature; the derived ones are computed, never read.
_COLUMN = {name: i for i, name in enumerate(FEATURES) if not name.endswith(("_gap", "_unseen"))}
_SIGNAL_COLUMNS = [FEATURES.index(s) for s in SIGNALS]
_GAP_COLUMNS = [FEATURES.index(f"{s}_gap") for s in SIGNALS]
_UNSEEN = FEATURES.index("unseen")
_UNSEEN_EVIDENCE_COLUMNS = [FEATURES.index(s) for s in UNSEEN_EVIDENCE]
_UNSEEN_COLUMNS = [FEATURES.index(f"{s}_unseen") for s in UNSEEN_EVIDENCE]
# Query-level evidence that the text names no part at all.
NOMATCH_FEATURES = (
    "top_p",
    "second_p",
    "max_sem_catalog",
    "max_sem_history",
    "sem_nopart",
    "clf_nopart",
    "max_lexical",
    "max_fuzzy",
    "max_code",
    # How much of the request the best candidate explains: low for a product the catalog
    # does not carry, even when a part shares some of its words ("snow chains" -> the tyre).
    "top_coverage",
    # The text holds a number that no part of the catalog carries.
    "unmatched_code",
    # How many stated attributes the best candidate contradicts (another side, size, vehicle,
    # year): the closest the catalog comes is not what was asked for ("rear brake pads 2021
    # kia sportage", "wiper blade 28 inch").
    "top_conflict",
    # The reranker's best score: how well the closest candidate reads as the thing asked for.
    "max_rerank",
)


def feature_rows(
    table: Mapping[str, Mapping[str, float]],
) -> tuple[list[str], np.ndarray, dict[str, float]]:
    """From candidate_features(hits): the candidate SKUs, their feature matrix (rows in
    FEATURES order) and query-level values."""
    skus = sorted(table)
    matrix = np.zeros((len(skus), len(FEATURES)), dtype=np.float64)
    # Gathered in lists and written in one step: an item assignment into the matrix per
    # feature cost more than the rest of this function.
    cells: list[int] = []
    values: list[float] = []
    for offset, sku in zip(range(0, matrix.size, len(FEATURES)), skus, strict=False):
        for name, value in table[sku].items():
            column = _COLUMN.get(name)
            if column is not None:
                cells.append(offset + column)
                values.append(value)
    matrix.flat[cells] = values
    # The derived columns, for all candidates at once (a per-candidate loop over every
    # feature name cost more than the model).
    signals = matrix[:, _SIGNAL_COLUMNS]
    tops = signals.max(axis=0) if len(skus) else np.zeros(len(SIGNALS))
    matrix[:, _GAP_COLUMNS] = signals - tops
    matrix[:, _UNSEEN_COLUMNS] = matrix[:, [_UNSEEN]] * matrix[:, _UNSEEN_EVIDENCE_COLUMNS]
    best = dict(zip(SIGNALS, tops.tolist(), strict=True))
    query = {
        "max_sem_catalog": max((r.get("sem_catalog", 0.0) for r in table.values()), default=0.0),
        "max_sem_history": max((r.get("sem_history", 0.0) for r in table.values()), default=0.0),
        "sem_nopart": max((r.get("sem_nopart", 0.0) for r in table.values()), default=0.0),
        "clf_nopart": max((r.get("clf_nopart", 0.0) for r in table.values()), default=0.0),
        "max_lexical": best["lexical"],
        "max_fuzzy": best["fuzzy"],
        "max_code": best["code"],
        "max_rerank": best[RERANK],
        "unmatched_code": max((r.get("unmatched_code", 0.0) for r in table.values()), default=0.0),
    }
    return skus, matrix, query


def nomatch_features(
    raw: np.ndarray,
    matrix: np.ndarray,
    query: Mapping[str, float],
    names: Sequence[str] = NOMATCH_FEATURES,
) -> np.ndarray:
    """The no-part model's inputs for one query, in the order of `names`: the query-level
    values of feature_rows, the two best uncalibrated candidate scores, how much of the
    request the best candidate explains and how many stated attributes it contradicts.
    Training and serving both call this, so the model sees the same features in both."""
    top = np.sort(raw)[::-1]
    best = int(np.argmax(raw)) if len(raw) else -1
    values = {
        **query,
        "top_p": float(top[0]) if len(top) else 0.0,
        "second_p": float(top[1]) if len(top) > 1 else 0.0,
        "top_coverage": float(matrix[best, _COVERAGE]) if best >= 0 else 0.0,
        "top_conflict": float(matrix[best, _CONFLICT]) if best >= 0 else 0.0,
    }
    return np.asarray([values.get(n, 0.0) for n in names], dtype=float)


@functools.cache
def feature_columns(names: tuple[str, ...]) -> list[int]:
    """The columns of feature_rows' matrix that hold `names`."""
    return [FEATURES.index(name) for name in names]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return result


@dataclass(frozen=True)
class Linear:
    """A fitted logistic model: P = sigmoid(x . coef + intercept)."""

    names: tuple[str, ...]
    coef: np.ndarray
    intercept: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid(x @ self.coef + self.intercept)

    def to_json(self) -> dict[str, Any]:
        return {"names": list(self.names), "coef": self.coef.tolist(), "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Linear:
        linear = cls(
            tuple(data["names"]), np.asarray(data["coef"], float), float(data["intercept"])
        )
        if len(linear.names) != len(linear.coef):
            raise ValueError("linear model: names and coefficients differ in length")
        return linear


@dataclass(frozen=True)
class Calibration:
    """Monotone map from raw fused score to the probability of being right (isotonic, fitted
    on held-out data), applied by linear interpolation between its knots."""

    x: np.ndarray
    y: np.ndarray

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        if len(self.x) == 0:
            return raw
        return np.interp(raw, self.x, self.y)

    def to_json(self) -> dict[str, Any]:
        return {"x": self.x.tolist(), "y": self.y.tolist()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Calibration:
        return cls(np.asarray(data["x"], float), np.asarray(data["y"], float))


@dataclass(frozen=True)
class LearnedFusion:
    """Logistic regression over candidate features, calibrated, with a no-part model.

    The scorer reads the features it was fitted on, by name: a model fitted before a feature
    was added keeps serving (the no-part model reads its own names the same way)."""

    scorer: Linear
    calibration: Calibration
    nomatch: Linear | None = None
    name: str = "learned"

    def __post_init__(self) -> None:
        unknown = set(self.scorer.names) - set(FEATURES)
        if unknown:
            raise ValueError(f"fusion features unknown to this version: {sorted(unknown)}")

    def rank(self, hits: Mapping[str, Sequence[Hit]]) -> Ranking:
        table = candidate_features(hits)
        skus, matrix, query = feature_rows(table)
        if not skus:
            return Ranking([])
        raw = self.scorer.predict(matrix[:, feature_columns(self.scorer.names)])
        # Normalise over candidates: the model scores each candidate alone, but exactly one
        # of them (at most) is right, so the confidences of one query should not sum past 1.
        share = raw / max(1.0, float(raw.sum()))
        confidence = self.calibration(share)
        # Isotonic calibration is a step function: candidates on one step share a confidence,
        # and the raw share, which calibration only maps monotonically, still orders them.
        order = np.lexsort((-share, -confidence))
        ranked = [Ranked(skus[i], float(confidence[i]), table[skus[i]]) for i in order]
        return Ranking(ranked, self.nomatch_probability(raw, matrix, query))

    def nomatch_probability(
        self, raw: np.ndarray, matrix: np.ndarray, query: Mapping[str, float]
    ) -> float | None:
        if self.nomatch is None:
            return None
        x = nomatch_features(raw, matrix, query, self.nomatch.names)
        return float(self.nomatch.predict(x[None, :])[0])

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "learned",
            "scorer": self.scorer.to_json(),
            "calibration": self.calibration.to_json(),
            "nomatch": self.nomatch.to_json() if self.nomatch else None,
        }
