"""Sentence embeddings of every part's catalog text and of the live labelled history."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VectorIndex:
    catalog: np.ndarray
    catalog_skus: list[str]
    history: np.ndarray
    # Row of each history text's part in `catalog`; -1 for texts that name no part.
    history_rows: np.ndarray
