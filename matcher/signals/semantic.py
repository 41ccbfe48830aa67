"""Sentence-embedding similarity to each part's catalog text and to its labelled history."""

from __future__ import annotations

import numpy as np

from matcher.catalog_view import CatalogView
from matcher.encoder import Encoder
from matcher.query import Query
from matcher.signals.base import Hit

NEIGHBOURS = 10


class SemanticSignal:
    name = "semantic"

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    def search(self, view: CatalogView, query: Query, k: int) -> list[Hit]:
        state = view.vectors
        n_parts = len(state.catalog_skus) if state is not None else 0
        if state is None or not n_parts:
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
