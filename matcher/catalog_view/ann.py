"""Approximate nearest neighbours over a large matrix of unit vectors (faiss, inverted file).

Reading every vector costs a request 0.15–0.3 ms per thousand rows here, memory-bound: nothing on
a few thousand parts, most of the request on a hundred thousand. Above `MIN_ROWS`, rows are
clustered once when the view is built (k-means over the rows, `4 * sqrt(n)` clusters) and a
search reads only the `PROBES` clusters nearest the query: on the 10,000-part generated
catalog's 30,000 vectors it finds 97% of the exact top 30, and the exact best row 99% of the
time, reading about 5% of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import faiss
import numpy as np

MIN_ROWS = 50_000
PROBES = 32
# k-means learns the clusters from at most this many rows per cluster (faiss's own advice).
TRAINING_ROWS_PER_CLUSTER = 64


@dataclass(frozen=True)
class ApproximateIndex:
    index: faiss.IndexIVFFlat

    @classmethod
    def over(cls, matrix: np.ndarray) -> ApproximateIndex | None:
        """An index over the rows of `matrix`, or None when reading them all is cheap enough."""
        if len(matrix) < MIN_ROWS or not len(matrix):
            return None
        rows = np.ascontiguousarray(matrix, dtype=np.float32)
        # k-means needs several rows per cluster.
        clusters = max(1, min(int(4 * math.sqrt(len(rows))), len(rows) // 8))
        index = faiss.IndexIVFFlat(
            faiss.IndexFlatIP(rows.shape[1]), rows.shape[1], clusters, faiss.METRIC_INNER_PRODUCT
        )
        sample = np.random.default_rng(0).permutation(len(rows))[
            : clusters * TRAINING_ROWS_PER_CLUSTER
        ]
        index.train(rows[np.sort(sample)])
        index.add(rows)
        index.nprobe = PROBES
        return cls(index)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and similarities of (about) the k rows most similar to the query, best first."""
        sims, rows = self.index.search(np.ascontiguousarray(query[None], dtype=np.float32), k)
        found = rows[0] >= 0
        return rows[0][found], sims[0][found]
