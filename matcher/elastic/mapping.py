"""What goes into the lexical indexes and how they are queried.

Analysis happens here, in Python, with the very function the embedded BM25 uses
(`matcher.analysis.terms`: accent and case folding, stopwords, plural folding), and the
analysed text is indexed with the `whitespace` analyzer. That analyzer is built into every
Elasticsearch 8 node, so one mapping works on the full distribution (docker/compose.yaml) and
on Elastic's minimal one that the tests run, which has no `analysis-common` module (no
asciifolding, stemmer or synonym filters). Both lexical backends now see the same terms.

Misspelt words match through a half-weight `fuzziness: AUTO` clause (a core query feature).
Names and aliases count double: heavier name boosts cost top-1 with history on the sample's
valid split, since catalog scores then drown the history's evidence in the per-part max.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matcher.analysis import terms
from matcher.catalog import Part
from matcher.examples import Example

PART_TEXT = ("name", "aliases", "category", "description")
PART_FIELDS = ("name^2", "aliases^2", "category^1", "description^1")
HISTORY_TEXT = ("text",)
HISTORY_FIELDS = ("text^1",)
# Fuzzy matches are weaker evidence than exact ones.
_FUZZY_WEIGHT = 0.5


@dataclass(frozen=True)
class Analysis:
    """Matching options; the default won on data/sample/valid.csv (eval/es_lexical_bench.py)."""

    fuzzy: bool = True


def analysed(text: str) -> str:
    return " ".join(terms(text))


def index_body(fields: Sequence[str], replicas: int) -> dict[str, Any]:
    """Settings and mappings of a parts or history index (`fields`: its text fields)."""
    text = {"type": "text", "analyzer": "whitespace"}
    properties: dict[str, Any] = {"sku": {"type": "keyword"}}
    properties.update({f: dict(text) for f in fields})
    return {
        # One shard, so BM25 statistics are exact.
        "settings": {"index": {"number_of_shards": 1, "number_of_replicas": replicas}},
        "mappings": {"dynamic": "strict", "properties": properties},
    }


def match_query(text: str, fields: Sequence[str], analysis: Analysis) -> dict[str, Any] | None:
    """The query for a raw text, or None when nothing of it is left to search for."""
    query = analysed(text)
    if not query:
        return None
    exact = {
        "multi_match": {
            "query": query,
            "fields": list(fields),
            "type": "best_fields",
            "tie_breaker": 0.3,
        }
    }
    if not analysis.fuzzy:
        return exact
    fuzzy = {
        "multi_match": {
            "query": query,
            "fields": list(fields),
            "type": "best_fields",
            "tie_breaker": 0.3,
            "fuzziness": "AUTO",
            "prefix_length": 1,
            "max_expansions": 20,
            "boost": _FUZZY_WEIGHT,
        }
    }
    return {"bool": {"should": [exact, fuzzy]}}


def part_doc(part: Part) -> dict[str, Any]:
    return {
        "sku": part.sku,
        "name": analysed(part.name),
        "aliases": [analysed(a) for a in part.aliases],
        "category": analysed(str(part.attributes.get("category", ""))),
        "description": analysed(part.description),
    }


def history_doc(example: Example) -> dict[str, Any]:
    return {"sku": example.sku, "text": analysed(example.text)}


def history_id(example: Example) -> str:
    # Deterministic, so re-adding a part's history on upsert overwrites instead of duplicating.
    return hashlib.sha1(f"{example.sku}\x00{example.text}".encode()).hexdigest()
