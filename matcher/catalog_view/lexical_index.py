"""BM25 over analysed catalog texts and, optionally, labelled history (bm25s, in process).

A bm25s index cannot take one more document, and rebuilding it costs seconds on a large
catalog, so a catalog change does not rebuild it: the documents of changed and retired parts
are masked out of the built index, and the changed parts' new catalog texts sit beside it in
a small recent segment that is scored with the built index's own statistics (document count,
document frequencies, average length), so that its scores compare with the index's. The view
builder folds the segment into a new index when it grows (matcher/catalog_view/view.py).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

import bm25s
import numpy as np

K1 = 1.2
B = 0.75


@dataclass(frozen=True)
class LexicalIndex:
    retriever: bm25s.BM25 | None
    # Document i belongs to part doc_skus[i]; history documents repeat their part's SKU.
    doc_skus: list[str]
    is_history: np.ndarray
    # Document frequency of each term in the built index, and its average document length.
    frequencies: Mapping[str, int] = field(default_factory=dict)
    average_length: float = 1.0
    # The documents of each part, catalog and history.
    docs_of: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # 1.0 for a document still searched, 0.0 for one of a part since changed or retired;
    # None while every document is.
    alive: np.ndarray | None = None
    # Term counts of the catalog texts of parts changed since the index was built.
    recent: Mapping[str, Counter[str]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        part_terms: Sequence[tuple[str, list[str]]],
        history_terms: Sequence[tuple[str, list[str]]],
    ) -> LexicalIndex:
        """From (sku, terms) of each part's catalog text, then of each history text."""
        docs = [t for _, t in part_terms] + [t for _, t in history_terms]
        skus = [s for s, _ in part_terms] + [s for s, _ in history_terms]
        flags = [False] * len(part_terms) + [True] * len(history_terms)
        if not docs:
            return cls(None, [], np.zeros(0, dtype=bool))
        # bm25s cannot index an empty document.
        retriever = bm25s.BM25(k1=K1, b=B)
        retriever.index([d or ["\x00"] for d in docs], show_progress=False)
        docs_of: dict[str, list[int]] = {}
        for doc, sku in enumerate(skus):
            docs_of.setdefault(sku, []).append(doc)
        return cls(
            retriever,
            skus,
            np.asarray(flags, dtype=bool),
            Counter(term for doc in docs for term in set(doc)),
            max(sum(len(d) for d in docs) / len(docs), 1.0),
            {sku: tuple(d) for sku, d in docs_of.items()},
        )

    def changed(self, upserted: Mapping[str, list[str]], removed: Collection[str]) -> LexicalIndex:
        """The index after parts' catalog texts changed (`upserted`: SKU -> terms) and parts
        were retired (`removed`); history documents of retired parts stop being searched."""
        gone = set(removed)
        recent = {s: c for s, c in self.recent.items() if s not in gone and s not in upserted}
        recent.update({sku: Counter(t) for sku, t in upserted.items()})
        masked = [d for sku in gone for d in self.docs_of.get(sku, ())]
        # A changed part's built catalog document is stale; its history documents hold (and
        # come back if it had been retired).
        own = [d for sku in upserted for d in self.docs_of.get(sku, ())]
        alive = self.alive
        if masked or own:
            alive = np.ones(len(self.doc_skus), np.float32) if alive is None else alive.copy()
            alive[masked] = 0.0
            alive[own] = self.is_history[own]
        return replace(self, alive=alive, recent=recent)

    def search(
        self, query_terms: list[str], fetch: int
    ) -> tuple[dict[str, float], dict[str, float]]:
        """Each part's best raw BM25 score over its catalog documents and over its history
        documents, from at most `fetch` documents of the built index plus the recent ones."""
        catalog: dict[str, float] = {}
        history: dict[str, float] = {}
        if self.retriever is not None:
            docs, scores = self._top(query_terms, min(len(self.doc_skus), fetch))
            for doc, score in zip(docs.tolist(), scores.tolist(), strict=True):
                if score <= 0:
                    continue
                target = history if self.is_history[doc] else catalog
                sku = self.doc_skus[doc]
                target[sku] = max(target.get(sku, 0.0), float(score))
        for sku, counts in self.recent.items():
            score = self._score(query_terms, counts)
            if score > 0:
                catalog[sku] = score
        return catalog, history

    def _top(self, query_terms: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best documents of the built index and their scores, from the term-by-document
        score matrix bm25s built. bm25s's own scoring adds each term's postings with
        np.add.at, which took 18 ms a query at 100,000 parts; one term's postings are
        distinct documents, so a plain indexed add gives the same sums far faster."""
        assert self.retriever is not None
        matrix, vocabulary = self.retriever.scores, self.retriever.vocab_dict
        data, indices, pointers = matrix["data"], matrix["indices"], matrix["indptr"]
        scores = np.zeros(len(self.doc_skus), dtype=np.float32)
        for term in query_terms:
            token = vocabulary.get(term)
            if token is not None:
                start, end = pointers[token], pointers[token + 1]
                scores[indices[start:end]] += data[start:end]
        if self.alive is not None:
            scores *= self.alive
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        return top, scores[top]

    def _score(self, query_terms: list[str], counts: Counter[str]) -> float:
        """Lucene's BM25, as bm25s computes it, with the built index's statistics."""
        documents = max(len(self.doc_skus), 1)
        length = sum(counts.values())
        norm = K1 * ((1 - B) + B * length / self.average_length)
        score = 0.0
        for term in query_terms:
            tf = counts.get(term, 0)
            if tf:
                df = self.frequencies.get(term, 0) + 1
                score += math.log(1 + (documents - df + 0.5) / (df + 0.5)) * tf / (norm + tf)
        return score
