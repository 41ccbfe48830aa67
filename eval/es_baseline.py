"""The Elasticsearch-only baseline: what a team would build with Elasticsearch alone.

One index, the stock `english` analyzer, a `multi_match` with `fuzziness: AUTO` over name,
aliases and description; the top hit's part wins. A node without the `analysis-common` module
(Elastic's minimal distribution, which the tests run) has no `english` analyzer: there the
baseline falls back to the `standard` analyzer, the stock default, and says so (`analyzer`).
Confidence is the BM25 margin between the two best parts, 1 - s2/s1: 1 when one part stands
alone, near 0 when two parts tie. With `history=True` the labelled texts are indexed too (one
document each, in their own field) and whichever document scores best, catalog or history,
names the winning part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matcher.catalog import Part
from matcher.elastic.client import BackendError, SearchClient, ndjson
from matcher.examples import Example

_FIELDS = ("name", "aliases", "description")


class ElasticsearchBaseline:
    def __init__(self, client: SearchClient, index: str, *, history: bool = False) -> None:
        self.client = client
        self.index = index
        self.history = history
        self.fields = [*_FIELDS, "history"] if history else list(_FIELDS)
        # The analyzer the index was built with: "english" where the node has it.
        self.analyzer = "english"

    def load(self, parts: Sequence[Part], examples: Sequence[Example]) -> None:
        """Replace the index (an evaluation baseline needs no zero-downtime reindex)."""
        self.drop()
        for analyzer in ("english", "standard"):
            try:
                self._create(analyzer)
            except BackendError as exc:
                if analyzer == "standard" or "analyzer" not in str(exc):
                    raise
                continue
            self.analyzer = analyzer
            break
        ops: list[dict[str, Any]] = []
        live = {p.sku for p in parts if p.active}
        for part in parts:
            if part.active:
                ops.append({"index": {"_index": self.index}})
                doc = {"name": part.name, "aliases": list(part.aliases)}
                ops.append({"sku": part.sku, **doc, "description": part.description})
        if self.history:
            for example in examples:
                if example.sku in live:
                    ops.append({"index": {"_index": self.index}})
                    ops.append({"sku": example.sku, "history": example.text})
        for start in range(0, len(ops), 2000):
            self.client.request("POST", "/_bulk", ndjson(ops[start : start + 2000]), timeout=60)
        self.client.request("POST", f"/{self.index}/_refresh", timeout=60)

    def _create(self, analyzer: str) -> None:
        text = {"type": "text", "analyzer": analyzer}
        properties = {"sku": {"type": "keyword"}, **{f: text for f in (*_FIELDS, "history")}}
        self.client.request(
            "PUT",
            f"/{self.index}",
            {
                "settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0}},
                "mappings": {"properties": properties},
            },
            timeout=60,
        )

    def rank(self, text: str, k: int = 10) -> list[tuple[str, float]]:
        """The k best parts with their BM25 scores, best first (one per part)."""
        body = {
            "size": k,
            "_source": ["sku"],
            "query": {"multi_match": {"query": text, "fields": self.fields, "fuzziness": "AUTO"}},
            # A part's best document stands for it, so two history texts of one part do not
            # take the first two places.
            "collapse": {"field": "sku"},
        }
        answer = self.client.request("POST", f"/{self.index}/_search", body)
        return [(h["_source"]["sku"], float(h["_score"])) for h in answer["hits"]["hits"]]

    def predict(self, text: str) -> tuple[str | None, float]:
        """The winning part (None when nothing matches) and its confidence."""
        ranked = self.rank(text, 2)
        if not ranked:
            return None, 0.0
        return ranked[0][0], margin_confidence([s for _, s in ranked])

    def confidence(self, text: str) -> float:
        return self.predict(text)[1]

    def drop(self) -> None:
        try:
            self.client.request("DELETE", f"/{self.index}", timeout=60)
        except BackendError as exc:
            if exc.status != 404:
                raise


def margin_confidence(scores: Sequence[float]) -> float:
    """1 - s2/s1 over the two best scores; a lone hit is certain, no hit is not."""
    if not scores or scores[0] <= 0:
        return 0.0
    if len(scores) == 1:
        return 1.0
    return max(0.0, min(1.0, 1.0 - scores[1] / scores[0]))
