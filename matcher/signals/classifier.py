"""The fine-tuned classifier: probability of each part given the text's embedding.

It knows only parts that had history when it was trained; parts without history are still
found by the other signals; parts not in the view (retired) are dropped.
"""

from __future__ import annotations

import numpy as np

from matcher.catalog_view import CatalogView
from matcher.encoder import Encoder
from matcher.head import NO_PART, Head
from matcher.query import Query
from matcher.signals.base import Hit


class ClassifierSignal:
    name = "classifier"

    def __init__(self, encoder: Encoder, head: Head) -> None:
        self.encoder = encoder
        self.head = head
        self._nopart_column = _column(head, NO_PART)

    def search(self, view: CatalogView, query: Query, k: int) -> list[Hit]:
        probabilities = self.head.predict_proba(self.encoder.encode_query(query.text)[None, :])[0]
        nopart = float(probabilities[self._nopart_column]) if self._nopart_column >= 0 else 0.0
        order = np.argsort(-probabilities)
        hits = []
        for i in order:
            sku = str(self.head.classes[i])
            if sku == NO_PART or sku not in view.parts:
                continue
            p = float(probabilities[i])
            hits.append(Hit(sku, p, features={"clf_nopart": nopart}))
            if len(hits) == k:
                break
        return hits


def _column(head: Head, label: str) -> int:
    matches = np.flatnonzero(head.classes == label)
    return int(matches[0]) if len(matches) else -1
