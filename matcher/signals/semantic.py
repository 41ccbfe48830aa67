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
        rows, sims = state.nearest(q, k)
        catalog_sims = dict(zip(rows.tolist(), np.maximum(sims, 0.0).tolist(), strict=True))
        history_best: dict[int, float] = {}
        votes: dict[int, float] = {}
        nopart_sim = 0.0
        positions, history_sims = state.nearest_history(q, NEIGHBOURS)
        for position, similarity in zip(positions.tolist(), history_sims.tolist(), strict=True):
            row, sim = int(state.history_rows[position]), max(0.0, similarity)
            if row == RETIRED:
                continue
            if row < 0:
                nopart_sim = max(nopart_sim, sim)
            else:
                history_best[row] = max(history_best.get(row, 0.0), sim)
                votes[row] = votes.get(row, 0.0) + 1.0 / len(positions)
        # A part near a history text but not among the nearest parts: its own similarity too.
        others = np.asarray([r for r in history_best if r not in catalog_sims], dtype=int)
        if len(others):
            extra = np.maximum(state.similarity(q, others), 0.0).tolist()
            catalog_sims.update(zip(others.tolist(), extra, strict=True))
        combined = {r: max(c, history_best.get(r, 0.0)) for r, c in catalog_sims.items()}
        skus = state.skus
        return [
            Hit(
                skus[row],
                score,
                features={
                    "sem_catalog": catalog_sims[row],
                    "sem_history": history_best.get(row, 0.0),
                    "knn_vote": votes.get(row, 0.0),
                    "sem_nopart": nopart_sim,
                },
            )
            for row, score in sorted(combined.items(), key=lambda item: (-item[1], item[0]))[:k]
        ]
