"""Which embedded BM25 engine: bm25s or tantivy? Same documents, same analysed terms, same
queries (valid.csv by default; never test.csv for a choice), top-1 accuracy and latency.

    python -m eval.lexical_engines_bench --data data/sample [--split valid]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import tantivy

from indexer.dataset import load_dataset
from matcher.analysis import terms
from matcher.catalog import Part
from matcher.catalog_view import CatalogViewBuilder
from matcher.examples import Example
from matcher.query import Query
from matcher.signals.lexical import BM25Signal


class TantivyRanker:
    """tantivy in RAM over the same analysed terms as BM25Signal (whitespace-joined, so
    tantivy's own tokenizer only splits on the spaces the analyser left)."""

    def __init__(self, parts: Sequence[Part], examples: Sequence[Example]) -> None:
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", stored=False, tokenizer_name="whitespace")
        builder.add_unsigned_field("doc", stored=True, indexed=False)
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema)
        writer = self.index.writer(heap_size=50_000_000, num_threads=1)
        self.skus: list[str] = []
        texts = [p.catalog_text() for p in parts] + [e.text for e in examples if e.sku]
        skus = [p.sku for p in parts] + [e.sku for e in examples if e.sku]
        for i, (text, sku) in enumerate(zip(texts, skus, strict=True)):
            writer.add_document(tantivy.Document(body=" ".join(terms(text)), doc=i))
            self.skus.append(sku)
        writer.commit()
        self.index.reload()

    def top(self, text: str) -> str | None:
        words = [w for w in terms(text) if w.isalnum()]
        if not words:
            return None
        searcher = self.index.searcher()
        query = self.index.parse_query(" OR ".join(words), ["body"])
        hits = searcher.search(query, 1).hits
        if not hits:
            return None
        doc = searcher.doc(hits[0][1])
        return self.skus[int(doc["doc"][0])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("data/sample"))
    parser.add_argument("--split", default="valid", choices=["valid", "test"])
    args = parser.parse_args(argv)
    dataset = load_dataset(args.data)
    queries = [e for e in dataset.split(args.split) if e.sku]

    bm25 = BM25Signal()
    started = time.perf_counter()
    view = CatalogViewBuilder().build(dataset.catalog, dataset.history)
    bm25_build = time.perf_counter() - started
    started = time.perf_counter()
    tantivy_ranker = TantivyRanker(dataset.catalog, dataset.history)
    tantivy_build = time.perf_counter() - started

    def measure(name: str, top: object, build: float) -> None:
        right, latencies = 0, []
        for example in queries:
            started = time.perf_counter()
            answer = top(example.text)  # type: ignore[operator]
            latencies.append((time.perf_counter() - started) * 1000)
            right += answer == example.sku
        print(
            f"{name:8s} top-1 {right / len(queries):.4f}  "
            f"latency p50 {statistics.median(latencies):.2f} ms  build {build:.2f} s"
        )

    print(f"{args.data} {args.split}: {len(queries)} texts naming a part")

    def bm25_top(text: str) -> str | None:
        hits = bm25.search(view, Query.parse(text), 1)
        return hits[0].sku if hits else None

    measure("bm25s", bm25_top, bm25_build)
    measure("tantivy", tantivy_ranker.top, tantivy_build)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
