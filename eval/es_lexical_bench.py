"""Top-1 accuracy of the lexical backends on a split: embedded BM25 vs the Elasticsearch signal vs
the Elasticsearch-only baseline, each without and with the labelled history.

    ES_URL=http://127.0.0.1:9201 .venv/bin/python -m eval.es_lexical_bench --split valid
    ... --grid    also every analysis variant (with and without the fuzzy clause)

Accuracy counts texts that name a part (texts whose sku is empty are left out: a lexical
ranking always has a top hit). Overlap is the mean share of the embedded backend's top 10 that
the Elasticsearch signal also returns in its top 10, for the same history setting.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.es_baseline import ElasticsearchBaseline
from indexer.dataset import load_dataset
from matcher.catalog import Part
from matcher.catalog_view import CatalogView, CatalogViewBuilder
from matcher.elastic.client import make_client, node_version
from matcher.elastic.index_writer import ElasticsearchIndex, drop_prefix
from matcher.elastic.mapping import Analysis
from matcher.examples import Example
from matcher.query import Query
from matcher.signals.base import Signal
from matcher.signals.elasticsearch import ElasticsearchSignal
from matcher.signals.lexical import BM25Signal

Ranker = Callable[[str], list[str]]


@dataclass(frozen=True)
class Score:
    top1: float
    top10: float
    ms_per_query: float
    rankings: list[list[str]]


def evaluate(rank: Ranker, examples: Sequence[Example]) -> Score:
    named = [e for e in examples if e.sku is not None]
    rankings: list[list[str]] = []
    started = time.perf_counter()
    for example in named:
        rankings.append(rank(example.text))
    elapsed = time.perf_counter() - started
    top1 = sum(bool(r) and r[0] == e.sku for r, e in zip(rankings, named, strict=True))
    top10 = sum(e.sku in r[:10] for r, e in zip(rankings, named, strict=True))
    n = max(len(named), 1)
    return Score(top1 / n, top10 / n, 1000 * elapsed / n, rankings)


def signal_ranker(signal: Signal, view: CatalogView) -> Ranker:
    return lambda text: [h.sku for h in signal.search(view, Query.parse(text), 10)]


def baseline_ranker(baseline: ElasticsearchBaseline) -> Ranker:
    return lambda text: [sku for sku, _ in baseline.rank(text, 10)]


def overlap(a: Sequence[Sequence[str]], b: Sequence[Sequence[str]]) -> float:
    shares = [
        len(set(x[:10]) & set(y[:10])) / max(len(x[:10]), 1) for x, y in zip(a, b, strict=True)
    ]
    return sum(shares) / max(len(shares), 1)


def run(url: str, data: Path, split: str, grid: bool) -> None:
    dataset = load_dataset(data)
    parts: list[Part] = dataset.catalog
    history: list[Example] = dataset.history
    examples = dataset.split(split)
    named = sum(e.sku is not None for e in examples)
    client = make_client(url, timeout_s=5.0)
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    print(
        f"{data} split={split}: {named} texts naming a part ({len(examples)} rows), "
        f"{len(parts)} parts, {len(history)} history texts; "
        f"Elasticsearch {node_version(client)} at {url}"
    )
    print(f"{'system':58} {'top1':>6} {'top10':>6} {'ms/q':>6}")

    def report(label: str, score: Score) -> None:
        print(f"{label:58} {score.top1:6.3f} {score.top10:6.3f} {score.ms_per_query:6.1f}")

    try:
        embedded: dict[bool, Score] = {}
        for with_history in (False, True):
            view = CatalogViewBuilder(lexical_history=with_history).build(parts, history)
            embedded[with_history] = evaluate(signal_ranker(BM25Signal(), view), examples)
            report(f"embedded BM25Signal history={with_history}", embedded[with_history])

        variants = [Analysis(fuzzy=True), Analysis(fuzzy=False)] if grid else [Analysis()]
        for analysis, with_history in itertools.product(variants, (False, True)):
            index = ElasticsearchIndex(client, f"{prefix}-s", history=with_history, swap_grace_s=0)
            index.load(parts, history)
            # The remote signal searches its own index, not an in-process view.
            no_view = CatalogViewBuilder(lexical_history=None).build([], [])
            score = evaluate(signal_ranker(ElasticsearchSignal(index, analysis), no_view), examples)
            label = f"ES signal fuzzy={'on' if analysis.fuzzy else 'off'} history={with_history}"
            report(label, score)
            if analysis == Analysis():
                share = overlap(embedded[with_history].rankings, score.rankings)
                print(f"  top-10 overlap with embedded (history={with_history}): {share:.3f}")

        for with_history in (False, True):
            baseline = ElasticsearchBaseline(client, f"{prefix}-baseline", history=with_history)
            baseline.load(parts, history)
            score = evaluate(baseline_ranker(baseline), examples)
            label = f"ES baseline {baseline.analyzer} fuzziness=AUTO history={with_history}"
            report(label, score)
    finally:
        drop_prefix(client, prefix)
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=Path("data/sample"))
    parser.add_argument("--split", default="valid", choices=("valid", "test"))
    parser.add_argument("--es-url", default=os.environ.get("ES_URL", ""))
    parser.add_argument("--grid", action="store_true", help="also every analysis variant")
    args = parser.parse_args(argv)
    if not args.es_url:
        print(
            "set ES_URL or --es-url (scripts/search-node.sh up starts a local node)",
            file=sys.stderr,
        )
        return 2
    run(args.es_url, args.data, args.split, args.grid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
