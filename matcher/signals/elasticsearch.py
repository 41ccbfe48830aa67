"""Lexical BM25 in Elasticsearch 8 (production) or OpenSearch 2 (tests): the remote twin of the
embedded BM25Signal, with the same name ("lexical"), features and score squashing.

Indexes. `{prefix}-parts` and `{prefix}-history` are aliases; each points at one concrete index
`{prefix}-parts-{timestamp}` / `{prefix}-history-{timestamp}` with one shard, so BM25 statistics
are exact. A full (re)build creates new indexes, bulk-loads them, refreshes them, swaps both
aliases in one atomic `_aliases` call, waits out in-flight searches and drops the old indexes:
searches never see a missing or half-loaded index.

Analysis. Index: standard tokenizer, lowercase, asciifolding, a light English stemmer. Search:
the same plus a synonym_graph filter whose rules are each part's name head and aliases
("hood, bonnet"), so "bonnet" also finds parts that only say "hood". Synonym rules are part of
the index settings, so a change of alias groups on upsert rebuilds both indexes through the
alias swap (simple, correct, and alias edits are rare); retire never rebuilds, as a retired
part's names stay true equivalences. Misspelt words match through a half-weight
`fuzziness: AUTO` clause. Chosen on data/sample/valid.csv with eval/es_lexical_bench.py --grid
(top-1, catalog only / with history): fuzzy 0.738 / 0.768 beat edge n-grams 0.728 / 0.755 and
exact terms only 0.689 / 0.736 (edge n-grams have the better top-10, 0.971 vs 0.951, and are
3-6x faster); the light, minimal and porter stemmers were within 0.001 of one another;
synonyms cost 0.001 / 0.011 on that data, whose parts carry their own aliases, and are kept for
the cross-part vocabulary it lacks. Every option stays selectable through `Analysis`.

Refresh policy. A rebuild refreshes explicitly before the swap. Upsert and retire use
`refresh=wait_for` (and `_delete_by_query` `refresh=true`), so they return once their change is
searchable: the engine's "retire hides at once" holds without forcing a refresh per document.

Faults. Searches use the client's request timeout (`Settings.es_timeout_s`) with no retries;
connection errors, timeouts, 429 and 5xx raise SignalUnavailable, so the engine answers from the
other signals and marks the answer degraded. The client reconnects by itself on the next call.
Writes never raise for an unavailable backend: the signal keeps the catalog and history it was
given, marks the indexes stale and logs. The next write that reaches the backend rebuilds both
indexes from what it holds; a search that finds the index stale or missing (e.g. a node that
came back empty) starts the same rebuild in the background (at most one at a time, at most one
attempt per `resync_backoff_s`) and, while the alias is missing, raises SignalUnavailable.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from matcher.catalog import Part
from matcher.config import Settings
from matcher.examples import Example
from matcher.query import Query, words
from matcher.signals.base import Hit, SignalUnavailable
from matcher.signals.lexical import lexical_hits

log = logging.getLogger(__name__)

Flavour = Literal["auto", "elasticsearch", "opensearch"]
Partial = Literal["fuzzy", "edge_ngram", "none"]
_JSON = {"accept": "application/json", "content-type": "application/json"}
_NDJSON = {"accept": "application/json", "content-type": "application/x-ndjson"}
_BULK_CHUNK = 1000
# Writes through an alias: visible to searches when they return, and never auto-creating a
# concrete index named like the alias when the alias is missing.
_WRITE_PARAMS = {"refresh": "wait_for", "require_alias": "true"}


# -- client seam ---------------------------------------------------------------------------


class BackendUnavailable(RuntimeError):
    """The search backend did not answer in time, refused the connection, or failed (5xx, 429)."""


class BackendError(RuntimeError):
    """The backend refused a request (4xx): a bug or a misconfiguration, not an outage."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(f"{status} {error_type}: {message}")
        self.status = status
        self.error_type = error_type


class SearchClient(Protocol):
    """The one call the signal needs; both official clients implement it with identical bodies.

    `body` is a JSON-able object, or a str already in NDJSON (bulk, msearch).
    `timeout` overrides the client's default request timeout for this call.
    """

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any: ...

    def close(self) -> None: ...


class IndexMissing(BackendError):
    """The index or alias is gone (e.g. the node came back empty): rebuild, do not retry."""


def _raise_for_status(status: int, body: Any, fallback: str) -> None:
    if status == 429 or status >= 500:
        raise BackendUnavailable(f"backend answered {status}: {fallback}")
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        kind, reason = str(error.get("type", "")), str(error.get("reason", ""))
        if kind == "index_not_found_exception":
            raise IndexMissing(status, kind, reason)
        raise BackendError(status, kind, reason)
    raise BackendError(status, "", str(error or fallback))


class ElasticsearchClient:
    """Elasticsearch 8 through the official client, which refuses any other server."""

    def __init__(self, url: str, timeout_s: float) -> None:
        from elasticsearch import Elasticsearch

        self._client = Elasticsearch(
            url, request_timeout=timeout_s, max_retries=0, retry_on_timeout=False
        )

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        import elastic_transport
        from elasticsearch import ApiError

        client = self._client if timeout is None else self._client.options(request_timeout=timeout)
        headers = _NDJSON if isinstance(body, str) else _JSON
        try:
            return client.perform_request(
                method, path, params=params, headers=headers, body=body
            ).body
        except ApiError as exc:
            _raise_for_status(exc.meta.status, exc.body, str(exc))
        except elastic_transport.TransportError as exc:
            raise BackendUnavailable(str(exc)) from exc

    def close(self) -> None:
        self._client.close()


class OpenSearchClient:
    """OpenSearch 2 through opensearch-py."""

    def __init__(self, url: str, timeout_s: float) -> None:
        from opensearchpy import OpenSearch

        self._client = OpenSearch(
            hosts=[url], timeout=timeout_s, max_retries=0, retry_on_timeout=False
        )

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        from opensearchpy.exceptions import ConnectionError as OSConnectionError
        from opensearchpy.exceptions import TransportError

        headers = _NDJSON if isinstance(body, str) else _JSON
        try:
            return self._client.transport.perform_request(
                method, path, params=params, body=body, timeout=timeout, headers=headers
            )
        except OSConnectionError as exc:
            raise BackendUnavailable(str(exc)) from exc
        except TransportError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else 503
            _raise_for_status(status, exc.info, str(exc))

    def close(self) -> None:
        self._client.close()


class AutoClient:
    """Picks the client from the server's root endpoint on first use, so a signal can be built
    while the backend is down and still connect once it is up."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._client: SearchClient | None = None
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        return self._resolve().request(method, path, body, params=params, timeout=timeout)

    def _resolve(self) -> SearchClient:
        with self._lock:
            if self._client is None:
                flavour = probe_flavour(self.url, self.timeout_s)
                self._client = make_client(self.url, self.timeout_s, flavour)
            return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def probe_flavour(url: str, timeout_s: float) -> Flavour:
    """The server's kind from GET /, in plain HTTP: each client refuses the other's server."""
    parsed = urllib.parse.urlsplit(url)
    netloc = parsed.hostname or ""
    if parsed.port:
        netloc = f"{netloc}:{parsed.port}"
    request = urllib.request.Request(urllib.parse.urlunsplit(parsed._replace(netloc=netloc)))
    if parsed.username:
        user = urllib.parse.unquote(parsed.username)
        token = f"{user}:{urllib.parse.unquote(parsed.password or '')}"
        request.add_header("Authorization", "Basic " + base64.b64encode(token.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=max(timeout_s, 2.0)) as response:
            root = json.load(response)
    except urllib.error.HTTPError as exc:
        _raise_for_status(exc.code, None, f"GET / on {parsed.hostname}: {exc.reason}")
        raise  # unreachable: _raise_for_status always raises
    except (OSError, ValueError) as exc:
        raise BackendUnavailable(f"GET / on {parsed.hostname}: {exc}") from exc
    version = root.get("version", {}) if isinstance(root, dict) else {}
    return "opensearch" if version.get("distribution") == "opensearch" else "elasticsearch"


def make_client(url: str, timeout_s: float, flavour: Flavour = "auto") -> SearchClient:
    if flavour == "opensearch":
        return OpenSearchClient(url, timeout_s)
    if flavour == "elasticsearch":
        return ElasticsearchClient(url, timeout_s)
    return AutoClient(url, timeout_s)


def ndjson(lines: Iterable[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)


# -- analysis ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Analysis:
    """How text is analysed and matched; the defaults won on data/sample/valid.csv."""

    # An Elasticsearch stemmer language: light_english, minimal_english, porter (= english).
    stemmer: str = "light_english"
    # How partial and misspelt words match: a fuzzy clause, an edge n-gram subfield, or neither.
    partial: Partial = "fuzzy"
    synonyms: bool = True


_PART_TEXT = ("name", "aliases", "category", "description")
# Names count double. Heavier name boosts (3x, and description 0.5x) cost 3.6 points of top-1
# with history on valid: catalog scores then drown the history's evidence in the per-part max.
_PART_FIELDS = ("name^2", "aliases^2", "category^1", "description^1")
_HISTORY_FIELDS = ("text^1",)
# Fuzzy and n-gram matches are weaker evidence than exact ones.
_PARTIAL_WEIGHT = 0.5


# A name's head comes before its variant or fitment: "Tail Light, Right - Toyota Corolla E170
# (2014-2019)" -> "Tail Light". Rules over whole names made every fitment a synonym of "tail
# lamp" and cost 1.1-1.6 points of top-1 on valid; heads cost at most 0.1 without history.
_NAME_HEAD = re.compile(r" - |,|\(")


def name_head(name: str) -> str:
    return _NAME_HEAD.split(name, maxsplit=1)[0]


def synonym_rules(parts: Iterable[Part]) -> tuple[str, ...]:
    """One equivalence rule per part: its name's head and its aliases, e.g. "hood, bonnet".

    Words are reduced to [a-z0-9] so that no alias can break the rule syntax (commas, "=>").
    """
    rules: set[str] = set()
    for part in parts:
        heads = (name_head(part.name), *part.aliases)
        names = list(dict.fromkeys(" ".join(words(n)) for n in heads))
        names = [n for n in names if n]
        if len(names) > 1:
            rules.add(", ".join(names))
    return tuple(sorted(rules))


def index_body(
    analysis: Analysis, rules: Sequence[str], fields: Sequence[str], replicas: int
) -> dict[str, Any]:
    """Settings and mappings of a parts or history index (`fields`: its text fields)."""
    base_filters = ["lowercase", "asciifolding", "pm_stem"]
    filters: dict[str, Any] = {"pm_stem": {"type": "stemmer", "language": analysis.stemmer}}
    search_filters = list(base_filters)
    if analysis.synonyms and rules:
        # After the stemmer: rules are parsed with the filters before this one, so "brake pads"
        # in a rule matches "brake pad" in a query.
        filters["pm_synonyms"] = {"type": "synonym_graph", "synonyms": list(rules), "lenient": True}
        search_filters.append("pm_synonyms")
    analyzers: dict[str, Any] = {
        "pm_index": {"type": "custom", "tokenizer": "standard", "filter": base_filters},
        "pm_search": {"type": "custom", "tokenizer": "standard", "filter": search_filters},
    }
    text: dict[str, Any] = {"type": "text", "analyzer": "pm_index", "search_analyzer": "pm_search"}
    if analysis.partial == "edge_ngram":
        filters["pm_edge"] = {"type": "edge_ngram", "min_gram": 3, "max_gram": 15}
        analyzers["pm_edge"] = {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "asciifolding", "pm_edge"],
        }
        # The query is n-grammed too, so "alternater" shares "alt".."alternat" with "alternator".
        text["fields"] = {"edge": {"type": "text", "analyzer": "pm_edge"}}
    properties: dict[str, Any] = {"sku": {"type": "keyword"}}
    properties.update({f: dict(text) for f in fields})
    return {
        "settings": {
            "index": {"number_of_shards": 1, "number_of_replicas": replicas},
            "analysis": {"filter": filters, "analyzer": analyzers},
        },
        "mappings": {"dynamic": "strict", "properties": properties},
    }


def match_query(text: str, fields: Sequence[str], analysis: Analysis) -> dict[str, Any]:
    exact = {
        "multi_match": {
            "query": text,
            "fields": list(fields),
            "type": "best_fields",
            "tie_breaker": 0.3,
        }
    }
    if analysis.partial == "fuzzy":
        partial: dict[str, Any] = {
            "multi_match": {
                "query": text,
                "fields": list(fields),
                "type": "best_fields",
                "tie_breaker": 0.3,
                "fuzziness": "AUTO",
                "prefix_length": 1,
                "max_expansions": 20,
                "boost": _PARTIAL_WEIGHT,
            }
        }
    elif analysis.partial == "edge_ngram":
        edge_fields = [_subfield(f, "edge") for f in fields]
        partial = {
            "multi_match": {
                "query": text,
                "fields": edge_fields,
                "type": "best_fields",
                "tie_breaker": 0.3,
                "boost": _PARTIAL_WEIGHT,
            }
        }
    else:
        return exact
    return {"bool": {"should": [exact, partial]}}


def _subfield(field: str, sub: str) -> str:
    name, _, boost = field.partition("^")
    return f"{name}.{sub}^{boost}" if boost else f"{name}.{sub}"


def part_doc(part: Part) -> dict[str, Any]:
    return {
        "sku": part.sku,
        "name": part.name,
        "aliases": list(part.aliases),
        "category": part.attributes.get("category", ""),
        "description": part.description,
    }


def history_id(example: Example) -> str:
    # Deterministic, so re-adding a part's history on upsert overwrites instead of duplicating.
    return hashlib.sha1(f"{example.sku}\x00{example.text}".encode()).hexdigest()


# -- the signal ----------------------------------------------------------------------------


class ElasticsearchSignal:
    """BM25 in a search backend over each part's catalog text and, with `history=True`, over
    its labelled texts; per SKU the better of the two wins, as in BM25Signal."""

    name = "lexical"

    def __init__(
        self,
        client: SearchClient,
        prefix: str = "partmatch",
        *,
        history: bool = True,
        analysis: Analysis | None = None,
        replicas: int = 0,
        write_timeout_s: float = 60.0,
        swap_grace_s: float = 1.0,
        resync_backoff_s: float = 1.0,
    ) -> None:
        if (
            not prefix
            or prefix != prefix.lower()
            or not all(c.isalnum() or c in "-_" for c in prefix)
        ):
            raise ValueError(f"index prefix must be lowercase [a-z0-9_-], got {prefix!r}")
        self.client = client
        self.prefix = prefix
        self.history = history
        self.analysis = analysis or Analysis()
        self.replicas = replicas
        self.write_timeout_s = write_timeout_s
        # Old indexes are dropped this long after the swap, so searches that resolved the alias
        # just before it still find their index.
        self.swap_grace_s = swap_grace_s
        self.resync_backoff_s = resync_backoff_s
        self._parts: dict[str, Part] = {}
        self._examples: list[Example] = []
        # The synonym rules in the live indexes; None until the first build.
        self._indexed_rules: tuple[str, ...] | None = None
        self._stale = False
        self._write_lock = threading.Lock()
        self._resync_lock = threading.Lock()
        self._resync_thread: threading.Thread | None = None
        self._last_resync = float("-inf")

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> ElasticsearchSignal:
        client = make_client(settings.es_url, settings.es_timeout_s)
        return cls(client, settings.es_index_prefix, **kwargs)

    @property
    def parts_alias(self) -> str:
        return f"{self.prefix}-parts"

    @property
    def history_alias(self) -> str:
        return f"{self.prefix}-history"

    @property
    def stale(self) -> bool:
        """True while the indexes may lag what the signal was given (a write failed)."""
        return self._stale

    # -- writes ----------------------------------------------------------------------------

    def load(self, parts: Sequence[Part], examples: Sequence[Example]) -> None:
        with self._write_lock:
            self._parts = {p.sku: p for p in parts if p.active}
            self._examples = list(examples)
            self._write(self._rebuild)

    def upsert(self, parts: Sequence[Part]) -> None:
        with self._write_lock:
            for part in parts:
                if part.active:
                    self._parts[part.sku] = part
                else:
                    self._parts.pop(part.sku, None)
            if self._stale or self._rules() != self._indexed_rules:
                self._write(self._rebuild)
            else:
                self._write(lambda: self._apply_upsert(parts))

    def retire(self, skus: Iterable[str]) -> None:
        with self._write_lock:
            gone = list(dict.fromkeys(skus))
            for sku in gone:
                self._parts.pop(sku, None)
            if self._stale:
                self._write(self._rebuild)
            else:
                self._write(lambda: self._delete(gone))

    def rebuild(self) -> None:
        """A full zero-downtime reindex of what the signal holds (e.g. after a mapping change)."""
        with self._write_lock:
            self._write(self._rebuild)

    def _write(self, action: Callable[[], None]) -> None:
        try:
            try:
                action()
            except IndexMissing:
                # The node is up but lost the index (it came back empty): rebuild it now.
                log.warning("lexical index %s missing; rebuilding", self.parts_alias)
                self._rebuild()
        except BackendUnavailable as exc:
            self._stale = True
            log.warning("search backend unavailable; lexical index marked stale: %s", exc)

    def _rules(self) -> tuple[str, ...]:
        return synonym_rules(self._parts.values()) if self.analysis.synonyms else ()

    def _live_examples(self, skus: Iterable[str] | None = None) -> list[Example]:
        # Like BM25Signal: history of a retired part stays held (it may come back) but unsearched.
        wanted = self._parts.keys() if skus is None else set(skus) & self._parts.keys()
        return [e for e in self._examples if e.sku is not None and e.sku in wanted]

    def _rebuild(self) -> None:
        rules = self._rules()
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        parts_index = f"{self.parts_alias}-{stamp}"
        builds: list[tuple[str, str, tuple[str, ...], list[dict[str, Any]]]] = [
            (
                self.parts_alias,
                parts_index,
                _PART_TEXT,
                self._part_ops(self._parts.values(), parts_index),
            )
        ]
        if self.history:
            history_index = f"{self.history_alias}-{stamp}"
            ops = self._history_ops(self._live_examples(), history_index)
            builds.append((self.history_alias, history_index, ("text",), ops))
        created: list[str] = []
        try:
            for _alias, index, fields, ops in builds:
                self._call(
                    "PUT", f"/{index}", index_body(self.analysis, rules, fields, self.replicas)
                )
                created.append(index)
                for chunk in _chunks(ops, _BULK_CHUNK):
                    self._bulk(chunk, {})
                self._call("POST", f"/{index}/_refresh")
            old = {alias: self._alias_members(alias) for alias, *_ in builds}
            actions: list[dict[str, Any]] = []
            for alias, index, *_ in builds:
                actions += [{"remove": {"index": o, "alias": alias}} for o in old[alias]]
                actions.append({"add": {"index": index, "alias": alias}})
            # One call: both aliases move together, atomically.
            self._call("POST", "/_aliases", {"actions": actions})
        except BaseException:
            self._drop(created)
            raise
        self._indexed_rules = rules
        self._stale = False
        retired = sorted({o for members in old.values() for o in members})
        if retired:
            time.sleep(self.swap_grace_s)
            self._drop(retired)

    def _apply_upsert(self, parts: Sequence[Part]) -> None:
        live = [p for p in parts if p.active]
        gone = [p.sku for p in parts if not p.active]
        ops = self._part_ops(live, self.parts_alias)
        if self.history:
            ops += self._history_ops(self._live_examples(p.sku for p in live), self.history_alias)
        if ops:
            self._bulk(ops, _WRITE_PARAMS)
        if gone:
            self._delete(gone)

    def _delete(self, skus: Sequence[str]) -> None:
        if not skus:
            return
        self._bulk(
            [{"delete": {"_index": self.parts_alias, "_id": sku}} for sku in skus], _WRITE_PARAMS
        )
        if self.history:
            self._call(
                "POST",
                f"/{self.history_alias}/_delete_by_query",
                {"query": {"terms": {"sku": list(skus)}}},
                params={"refresh": "true", "conflicts": "proceed"},
            )

    @staticmethod
    def _part_ops(parts: Iterable[Part], index: str) -> list[dict[str, Any]]:
        ops: list[dict[str, Any]] = []
        for part in parts:
            ops.append({"index": {"_index": index, "_id": part.sku}})
            ops.append(part_doc(part))
        return ops

    @staticmethod
    def _history_ops(examples: Iterable[Example], index: str) -> list[dict[str, Any]]:
        ops: list[dict[str, Any]] = []
        for example in examples:
            ops.append({"index": {"_index": index, "_id": history_id(example)}})
            ops.append({"sku": example.sku, "text": example.text})
        return ops

    def _bulk(self, ops: Sequence[Mapping[str, Any]], params: Mapping[str, str]) -> None:
        result = self._call("POST", "/_bulk", ndjson(ops), params=params)
        if not result.get("errors"):
            return
        for item in result.get("items", []):
            ((op, outcome),) = item.items()
            error = outcome.get("error")
            if not error:
                continue
            _raise_for_status(int(outcome.get("status", 0)), {"error": error}, f"bulk {op}")

    def _alias_members(self, alias: str) -> list[str]:
        # _cat answers [] for a missing alias where GET /_alias answers (and logs) a 404.
        rows = self._call("GET", f"/_cat/aliases/{alias}", params={"format": "json", "h": "index"})
        return sorted({row["index"] for row in rows})

    def _drop(self, indexes: Sequence[str]) -> None:
        for index in indexes:
            try:
                self._call("DELETE", f"/{index}", params={"ignore_unavailable": "true"})
            except (BackendUnavailable, BackendError) as exc:
                log.warning("could not drop index %s (drop it by hand): %s", index, exc)

    def _call(
        self, method: str, path: str, body: Any = None, *, params: Mapping[str, str] | None = None
    ) -> Any:
        return self.client.request(method, path, body, params=params, timeout=self.write_timeout_s)

    # -- search ----------------------------------------------------------------------------

    def search(self, query: Query, k: int) -> list[Hit]:
        text = f"{query.text} {query.vehicle}".strip()
        if not text or not self._parts or k <= 0:
            return []
        if self._stale:
            self._schedule_resync()
        searches: list[Mapping[str, Any]] = [
            {"index": self.parts_alias},
            {"size": k, "_source": False, "query": match_query(text, _PART_FIELDS, self.analysis)},
        ]
        if self.history:
            searches += [
                {"index": self.history_alias},
                {
                    "size": k,
                    "_source": ["sku"],
                    "query": match_query(text, _HISTORY_FIELDS, self.analysis),
                    # One hit per part: its best historical text.
                    "collapse": {"field": "sku"},
                },
            ]
        try:
            answer = self.client.request("POST", "/_msearch", ndjson(searches))
            responses = answer["responses"]
            catalog = {h["_id"]: float(h["_score"]) for h in self._hits(responses[0])}
            history = (
                {h["_source"]["sku"]: float(h["_score"]) for h in self._hits(responses[1])}
                if self.history
                else {}
            )
        except BackendUnavailable as exc:
            raise SignalUnavailable(f"lexical backend: {exc}") from exc
        except IndexMissing as exc:
            self._stale = True
            self._schedule_resync()
            raise SignalUnavailable(f"lexical index missing, rebuilding: {exc}") from exc
        except BackendError as exc:
            # A refused query is a bug, not an outage; still, the other signals can answer.
            log.error("lexical backend refused a search: %s", exc)
            raise SignalUnavailable(f"lexical backend refused the search: {exc}") from exc
        return lexical_hits(catalog, history, k)

    @staticmethod
    def _hits(response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        error = response.get("error")
        if error is not None:
            _raise_for_status(int(response.get("status", 0)), response, "msearch")
        shards = response.get("_shards", {})
        if shards.get("total", 0) and not shards.get("successful", 0):
            raise BackendUnavailable(f"no shard answered: {shards.get('failures')}")
        return list(response["hits"]["hits"])

    def _schedule_resync(self) -> None:
        with self._resync_lock:
            now = time.monotonic()
            running = self._resync_thread is not None and self._resync_thread.is_alive()
            if running or now - self._last_resync < self.resync_backoff_s:
                return
            self._last_resync = now
            self._resync_thread = threading.Thread(
                target=self._resync, name=f"resync-{self.prefix}", daemon=True
            )
            self._resync_thread.start()

    def _resync(self) -> None:
        with self._write_lock:
            if not self._stale:
                return
            try:
                self._rebuild()
                log.info("lexical index %s resynced", self.parts_alias)
            except BackendUnavailable as exc:
                log.warning("lexical resync failed, will retry: %s", exc)
            except Exception:
                log.exception("lexical resync failed")

    def wait_for_resync(self, timeout_s: float) -> bool:
        """For tests and shutdown: wait for a running background resync; True if none is left."""
        thread = self._resync_thread
        if thread is not None:
            thread.join(timeout_s)
        return not (thread is not None and thread.is_alive())

    def close(self) -> None:
        self.client.close()


def _chunks(ops: Iterable[Mapping[str, Any]], pairs: int) -> Iterator[list[Mapping[str, Any]]]:
    chunk: list[Mapping[str, Any]] = []
    for op in ops:
        chunk.append(op)
        if len(chunk) >= pairs * 2 and len(chunk) % 2 == 0:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
