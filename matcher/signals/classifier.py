"""The fine-tuned classifier: probability of each part given the text's embedding.

It knows only parts that had history when it was trained; parts without history are still
found by the other signals, and retired parts are dropped here and again by the matcher.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from matcher.catalog import Part
from matcher.encoder import Encoder
from matcher.examples import Example
from matcher.head import NO_PART, Head
from matcher.query import Query
from matcher.signals.base import Hit


class ClassifierSignal:
    name = "classifier"

    def __init__(self, encoder: Encoder, head: Head) -> None:
        self.encoder = encoder
        self.head = head
        self._active: frozenset[str] = frozenset()
        self._nopart_column = _column(head, NO_PART)

    def load(self, parts: Sequence[Part], examples: Sequence[Example]) -> None:
        self._active = frozenset(p.sku for p in parts if p.active)

    def upsert(self, parts: Sequence[Part]) -> None:
        active = set(self._active)
        for part in parts:
            (active.add if part.active else active.discard)(part.sku)
        self._active = frozenset(active)

    def retire(self, skus: Iterable[str]) -> None:
        self._active = self._active - set(skus)

    def search(self, query: Query, k: int) -> list[Hit]:
        probabilities = self.head.predict_proba(self.encoder.encode_query(query.text)[None, :])[0]
        nopart = float(probabilities[self._nopart_column]) if self._nopart_column >= 0 else 0.0
        order = np.argsort(-probabilities)
        hits = []
        for i in order:
            sku = str(self.head.classes[i])
            if sku == NO_PART or sku not in self._active:
                continue
            p = float(probabilities[i])
            hits.append(Hit(sku, p, features={"clf_nopart": nopart}))
            if len(hits) == k:
                break
        return hits


def _column(head: Head, label: str) -> int:
    matches = np.flatnonzero(head.classes == label)
    return int(matches[0]) if len(matches) else -1
