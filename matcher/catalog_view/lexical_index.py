"""BM25 over analysed catalog texts and, optionally, labelled history (bm25s, in process)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import bm25s
import numpy as np


@dataclass(frozen=True)
class LexicalIndex:
    retriever: bm25s.BM25 | None
    # Document i belongs to part doc_skus[i]; history documents repeat their part's SKU.
    doc_skus: list[str]
    is_history: np.ndarray

    @classmethod
    def build(
        cls,
        part_terms: Sequence[tuple[str, list[str]]],
        history_terms: Sequence[tuple[str, list[str]]],
        k1: float = 1.2,
        b: float = 0.75,
    ) -> LexicalIndex:
        """From (sku, terms) of each part's catalog text, then of each history text."""
        docs = [t for _, t in part_terms] + [t for _, t in history_terms]
        skus = [s for s, _ in part_terms] + [s for s, _ in history_terms]
        flags = [False] * len(part_terms) + [True] * len(history_terms)
        if not docs:
            return cls(None, [], np.zeros(0, dtype=bool))
        # bm25s cannot index an empty document.
        retriever = bm25s.BM25(k1=k1, b=b)
        retriever.index([d or ["\x00"] for d in docs], show_progress=False)
        return cls(retriever, skus, np.asarray(flags, dtype=bool))
