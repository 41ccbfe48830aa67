"""Sentence-embedding similarity to each part's catalog text and to its labelled history."""

from __future__ import annotations

import numpy as np

from matcher.catalog_view import CatalogView
from matcher.catalog_view.vector_index import RETIRED
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
        if state is None or not view.parts:
            return []
        q = self.encoder.encode_query(query.text)
        catalog_sims = np.maximum(state.similarities(q), 0.0)
        n_parts = len(catalog_sims)
        history_best = np.zeros(n_parts)
        votes = np.zeros(n_parts)
        nopart_sim = 0.0
        if len(state.history_rows):
            history_sims = state.history @ q
            n = min(NEIGHBOURS, len(history_sims))
            nearest = np.argpartition(-history_sims, n - 1)[:n]
            for i in nearest:
                row, sim = int(state.history_rows[i]), max(0.0, float(history_sims[i]))
                if row == RETIRED:
                    continue
                if row < 0:
                    nopart_sim = max(nopart_sim, sim)
                else:
                    history_best[row] = max(history_best[row], sim)
                    votes[row] += 1.0 / n
        combined = np.maximum(catalog_sims, history_best)
        if state.alive is not None:
            # Rows of parts since changed or retired: never proposed.
            combined[: len(state.alive)][~state.alive] = -1.0
        k = min(k, len(combined))
        # Partitioned first: sorting every part would cost more than the rest of the search.
        top = np.argpartition(-combined, k - 1)[:k] if k < len(combined) else np.arange(k)
        top = top[np.lexsort((top, -combined[top]))]
        skus = state.skus
        return [
            Hit(
                skus[i],
                float(combined[i]),
                features={
                    "sem_catalog": float(catalog_sims[i]),
                    "sem_history": float(history_best[i]),
                    "knn_vote": float(votes[i]),
                    "sem_nopart": nopart_sim,
                },
            )
            for i in top
            if combined[i] >= 0
        ]
