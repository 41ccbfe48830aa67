"""Sentence embeddings of every part's catalog text and of the live labelled history.

The catalog matrix is large (a row per part) and a request reads it whole, so a catalog change
never copies it: the rows of changed and retired parts are masked, the changed parts' new
vectors sit in a small recent matrix beside it, and history texts of a changed part point to
its new row. The view builder folds the recent rows into a new matrix when they grow
(matcher/catalog_view/view.py).

Large matrices are searched approximately (matcher/catalog_view/ann.py); every search returns
only the nearest rows, so that a request never sorts the whole catalog.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from matcher.catalog_view.ann import ApproximateIndex

# A history text whose part is retired: it neither votes nor counts as a text naming no part.
RETIRED = -2
# Rows copied per step by `stacked`.
STACK_ROWS = 4096


def stacked(rows: Sequence[np.ndarray], dimension: int) -> np.ndarray:
    """The rows as one float32 matrix, copied a few thousand at a time: one np.stack of
    100,000 part vectors held the GIL for a whole second while a view was built beside
    requests (matcher/catalog_view/live.py), and every request waited for it."""
    matrix = np.empty((len(rows), dimension), dtype=np.float32)
    for start in range(0, len(rows), STACK_ROWS):
        np.stack(rows[start : start + STACK_ROWS], out=matrix[start : start + STACK_ROWS])
    return matrix


@dataclass(frozen=True)
class VectorIndex:
    catalog: np.ndarray
    catalog_skus: list[str]
    history: np.ndarray
    # Row of each history text's part in `catalog` (or, past its end, in `recent`); -1 for
    # texts that name no part, RETIRED for texts of retired parts.
    history_rows: np.ndarray
    # False for a row of a part since changed or retired; None while all are live.
    alive: np.ndarray | None = None
    recent: np.ndarray | None = None
    recent_skus: tuple[str, ...] = ()
    # Row of each part in `catalog` as built.
    row_of: Mapping[str, int] = field(default_factory=dict)
    # Where each built history row pointed, before any change.
    built_history_rows: np.ndarray | None = None
    # Over `catalog` and `history` as built, when they are large.
    catalog_ann: ApproximateIndex | None = None
    history_ann: ApproximateIndex | None = None

    @classmethod
    def build(
        cls,
        catalog: np.ndarray,
        catalog_skus: list[str],
        history: np.ndarray,
        history_skus: Sequence[str | None],
    ) -> VectorIndex:
        """From each part's vector and SKU, and each history text's vector and SKU (None for
        a text that names no part)."""
        row_of = {sku: i for i, sku in enumerate(catalog_skus)}
        return cls(
            catalog=catalog,
            catalog_skus=catalog_skus,
            history=history,
            history_rows=np.asarray([row_of.get(s or "", -1) for s in history_skus], dtype=int),
            row_of=row_of,
            catalog_ann=ApproximateIndex.over(catalog),
            history_ann=ApproximateIndex.over(history),
        )

    @property
    def skus(self) -> list[str]:
        """The SKU of each row: built rows first, then recent ones."""
        return [*self.catalog_skus, *self.recent_skus] if self.recent_skus else self.catalog_skus

    def nearest(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine similarities of the k live parts most similar to the query."""
        dead = 0 if self.alive is None else len(self.alive) - int(self.alive.sum())
        rows, sims = _nearest(self.catalog, self.catalog_ann, query, k + dead)
        if self.alive is not None:
            live = self.alive[rows]
            rows, sims = rows[live], sims[live]
        if self.recent is not None and len(self.recent):
            rows = np.concatenate([rows, len(self.catalog_skus) + np.arange(len(self.recent))])
            sims = np.concatenate([sims, self.recent @ query])
        return _best(rows, sims, k)

    def similarity(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine similarity of the query to the given rows, built or recent."""
        built = len(self.catalog_skus)
        sims = np.empty(len(rows), dtype=np.float32)
        old = rows < built
        sims[old] = self.catalog[rows[old]] @ query
        if self.recent is not None and (~old).any():
            sims[~old] = self.recent[rows[~old] - built] @ query
        return sims

    def nearest_history(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions and similarities of the k history texts most similar to the query."""
        return _nearest(self.history, self.history_ann, query, k)

    def changed(self, upserted: Mapping[str, np.ndarray], removed: Collection[str]) -> VectorIndex:
        """The index after parts' vectors changed (`upserted`: SKU -> vector) and parts were
        retired (`removed`)."""
        gone = set(removed) | set(upserted)
        kept = [i for i, sku in enumerate(self.recent_skus) if sku not in gone]
        recent_skus = (*(self.recent_skus[i] for i in kept), *upserted)
        dimension = self.catalog.shape[1]
        old = self.recent if self.recent is not None else np.zeros((0, dimension), np.float32)
        new = np.stack(list(upserted.values())) if upserted else np.zeros((0, dimension))
        recent = np.concatenate([old[kept], new.astype(old.dtype)])
        alive = self.alive
        rows = [self.row_of[sku] for sku in gone if sku in self.row_of]
        if rows:
            alive = np.ones(len(self.catalog_skus), bool) if alive is None else alive.copy()
            alive[rows] = False
        built = self.history_rows if self.built_history_rows is None else self.built_history_rows
        return replace(
            self,
            alive=alive,
            recent=recent,
            recent_skus=recent_skus,
            history_rows=self._point(built, alive, recent_skus),
            built_history_rows=built,
        )

    def _point(
        self, built: np.ndarray, alive: np.ndarray | None, recent_skus: tuple[str, ...]
    ) -> np.ndarray:
        """History rows pointed at each part's live row: its built row, or its recent row."""
        if alive is None:
            return built
        target = np.where(alive, np.arange(len(self.catalog_skus)), RETIRED)
        offset = len(self.catalog_skus)
        for position, sku in enumerate(recent_skus):
            if sku in self.row_of:
                target[self.row_of[sku]] = offset + position
        rows = built.copy()
        named = rows >= 0
        rows[named] = target[rows[named]]
        return rows


def _nearest(
    matrix: np.ndarray, ann: ApproximateIndex | None, query: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    if ann is not None:
        return ann.search(query, min(k, len(matrix)))
    return _best(np.arange(len(matrix)), matrix @ query, k)


def _best(rows: np.ndarray, sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best (row, similarity) pairs, best first, ties to the lower row."""
    if k < len(sims):
        # Partitioned first: sorting every row would cost more than the rest of the search.
        keep = np.argpartition(-sims, k - 1)[:k] if k > 0 else np.zeros(0, dtype=int)
        rows, sims = rows[keep], sims[keep]
    order = np.lexsort((rows, -sims))
    return rows[order], sims[order]
