"""Sentence-embedding similarity to each part's catalog text and to its labelled history."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.catalog import Part
from matcher.encoder import Encoder
from matcher.examples import Example
from matcher.query import Query
from matcher.signals.base import Hit, RebuildingSignal

NEIGHBOURS = 10


@dataclass(frozen=True)
class _Vectors:
    catalog: np.ndarray
    catalog_skus: list[str]
    history: np.ndarray
    # Row of each history text's part in `catalog`; -1 for texts that name no part.
    history_rows: np.ndarray


class SemanticSignal(RebuildingSignal[_Vectors]):
    name = "semantic"

    def __init__(self, encoder: Encoder) -> None:
        super().__init__()
        self.encoder = encoder

    def _build(self, parts: list[Part], examples: list[Example]) -> _Vectors:
        row_of = {p.sku: i for i, p in enumerate(parts)}
        return _Vectors(
            catalog=self.encoder.encode([p.catalog_text() for p in parts]),
            catalog_skus=[p.sku for p in parts],
            history=self.encoder.encode([e.text for e in examples]),
            history_rows=np.asarray([row_of.get(e.sku or "", -1) for e in examples], dtype=int),
        )

    def _search(self, state: _Vectors, query: Query, k: int) -> list[Hit]:
        n_parts = len(state.catalog_skus)
        if not n_parts:
            return []
        q = self.encoder.encode_query(query.text)
        catalog_sims = np.maximum(state.catalog @ q, 0.0)
        history_best = np.zeros(n_parts)
        votes = np.zeros(n_parts)
        nopart_sim = 0.0
        if len(state.history_rows):
            history_sims = state.history @ q
            n = min(NEIGHBOURS, len(history_sims))
            nearest = np.argpartition(-history_sims, n - 1)[:n]
            for i in nearest:
                row, sim = int(state.history_rows[i]), max(0.0, float(history_sims[i]))
                if row < 0:
                    nopart_sim = max(nopart_sim, sim)
                else:
                    history_best[row] = max(history_best[row], sim)
                    votes[row] += 1.0 / n
        combined = np.maximum(catalog_sims, history_best)
        top = np.argsort(-combined, kind="stable")[:k]
        return [
            Hit(
                state.catalog_skus[i],
                float(combined[i]),
                features={
                    "sem_catalog": float(catalog_sims[i]),
                    "sem_history": float(history_best[i]),
                    "knn_vote": float(votes[i]),
                    "sem_nopart": nopart_sim,
                },
            )
            for i in top
        ]
