"""Lexical BM25 in Elasticsearch 8: the remote twin of the embedded BM25Signal, with the same
name ("lexical"), analysis, features and score squashing.

The signal only searches. The indexes belong to an ElasticsearchIndex (matcher/elastic/
index_writer.py), which the matcher hands every catalog change (a RemoteIndex).

Faults. Searches use the client's request timeout (`Settings.es_timeout_s`) with no retries;
connection errors, timeouts, 429 and 5xx raise SignalUnavailable, so the engine answers from the
other signals and marks the answer degraded. The client reconnects by itself on the next call.
A search that finds the indexes stale or missing asks the writer for a background rebuild and,
while the alias is missing, raises SignalUnavailable.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from matcher.catalog_view import CatalogView
from matcher.config import Settings
from matcher.elastic.client import (
    BackendError,
    BackendUnavailable,
    IndexMissing,
    make_client,
    ndjson,
    raise_for_status,
)
from matcher.elastic.index_writer import ElasticsearchIndex
from matcher.elastic.mapping import HISTORY_FIELDS, PART_FIELDS, Analysis, match_query
from matcher.query import Query
from matcher.signals.base import Hit, SignalUnavailable
from matcher.signals.lexical import lexical_hits

log = logging.getLogger(__name__)


class ElasticsearchSignal:
    """BM25 over each part's catalog text and, when the index holds history, over its labelled
    texts; per SKU the better of the two wins, as in BM25Signal."""

    name = "lexical"

    def __init__(self, index: ElasticsearchIndex, analysis: Analysis | None = None) -> None:
        self.index = index
        self.client = index.client
        self.analysis = analysis or Analysis()

    @classmethod
    def from_settings(cls, settings: Settings) -> ElasticsearchSignal:
        client = make_client(settings.es_url, settings.es_timeout_s)
        return cls(ElasticsearchIndex(client, settings.es_index_prefix))

    def search(self, view: CatalogView, query: Query, k: int) -> list[Hit]:
        text = f"{query.text} {query.vehicle}".strip()
        if self.index.empty or k <= 0:
            return []
        part_query = match_query(text, PART_FIELDS, self.analysis)
        if part_query is None:
            return []
        if self.index.stale:
            self.index.schedule_resync()
        searches: list[Mapping[str, Any]] = [
            {"index": self.index.parts_alias},
            {"size": k, "_source": False, "query": part_query},
        ]
        if self.index.history:
            searches += [
                {"index": self.index.history_alias},
                {
                    "size": k,
                    "_source": ["sku"],
                    "query": match_query(text, HISTORY_FIELDS, self.analysis),
                    # One hit per part: its best historical text.
                    "collapse": {"field": "sku"},
                },
            ]
        try:
            answer = self.client.request("POST", "/_msearch", ndjson(searches))
            responses = answer["responses"]
            catalog = {h["_id"]: float(h["_score"]) for h in _hits(responses[0])}
            history = (
                {h["_source"]["sku"]: float(h["_score"]) for h in _hits(responses[1])}
                if self.index.history
                else {}
            )
        except BackendUnavailable as exc:
            raise SignalUnavailable(f"lexical backend: {exc}") from exc
        except IndexMissing as exc:
            self.index.mark_stale()
            raise SignalUnavailable(f"lexical index missing, rebuilding: {exc}") from exc
        except BackendError as exc:
            # A refused query is a bug, not an outage; still, the other signals can answer.
            log.error("lexical backend refused a search: %s", exc)
            raise SignalUnavailable(f"lexical backend refused the search: {exc}") from exc
        return lexical_hits(catalog, history, k)

    def close(self) -> None:
        self.client.close()


def _hits(response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    error = response.get("error")
    if error is not None:
        raise_for_status(int(response.get("status", 0)), response, "msearch")
    shards = response.get("_shards", {})
    if shards.get("total", 0) and not shards.get("successful", 0):
        raise BackendUnavailable(f"no shard answered: {shards.get('failures')}")
    return list(response["hits"]["hits"])
