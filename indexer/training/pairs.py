"""Contrastive training examples from labelled history, with mined hard negatives.

Each history text that names a part (the anchor) yields up to two triplets:

- (anchor, the part's catalog text, the catalog text of another part ranked high for the
  anchor by BM25 or by the base encoder), which teaches the encoder to map customer wording
  onto catalog wording, the only evidence for parts with little history;
- (anchor, another history text of the same part, a history text of a different part - or
  of no part - that the base encoder puts near the anchor), which pulls together the many
  ways customers say the same thing.

Random in-batch negatives are mostly easy (brake pads against wiper blades); the mined
negatives are the confusions the matcher actually makes (front against rear pads), which is
where fine-tuning pays. Texts that name no part are never anchors: they have no positive.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from matcher.catalog import Part
from matcher.catalog_view import CatalogViewBuilder
from matcher.examples import Example
from matcher.head import NO_PART
from matcher.query import Query, fold
from matcher.signals.lexical import BM25Signal

# Unit-length embeddings, one row per text (e.g. matcher.encoder.Encoder.encode).
Embed = Callable[[Sequence[str]], np.ndarray]

# Anchors are scored against the pools in blocks, so banking77-sized history never needs
# an anchors x history similarity matrix in memory at once.
_BLOCK = 1024


@dataclass(frozen=True)
class Triplet:
    anchor: str
    positive: str
    negative: str
    # The anchor's part, and the negative's part (NO_PART for a text that names none); the
    # batcher needs both to keep a batch free of false in-batch negatives.
    sku: str
    negative_sku: str
    # CATALOG: the positive is the part's catalog text; HISTORY: another customer text.
    kind: str = "catalog"


CATALOG = "catalog"
HISTORY = "history"


@dataclass(frozen=True)
class PairConfig:
    seed: int = 0
    # A hard negative is drawn from the first `depth` other-part entries of a ranking, not
    # always the first: the very top is the likeliest to be a mislabelled or near-identical
    # text, and some variety keeps later epochs from seeing the same triplet again.
    depth: int = 5
    # Neighbours fetched per anchor before the anchor's own part is filtered out.
    fetch: int = 30
    catalog_pairs: bool = True
    history_pairs: bool = True


def mine_triplets(
    parts: Sequence[Part],
    history: Sequence[Example],
    embed: Embed,
    config: PairConfig | None = None,
    anchors: Sequence[Example] | None = None,
) -> list[Triplet]:
    """Triplets for `anchors` (default: every history text naming a known part).

    `history` is the pool that same-part positives and history negatives come from; a warm
    start passes its new and replayed texts as `anchors` and the whole history as the pool.
    """
    config = config or PairConfig()
    rng = random.Random(config.seed)
    catalog = {p.sku: p.catalog_text() for p in parts if p.active}
    if len(catalog) < 2:
        raise ValueError("mining negatives needs a catalog of at least two active parts")
    catalog_skus = list(catalog)
    catalog_texts = [catalog[s] for s in catalog_skus]

    # The pool: each distinct (text, label) once; a text labelled "no part" is a fine
    # negative for any anchor.
    pool_rows = list(dict.fromkeys((e.text, e.sku or NO_PART) for e in history))
    pool_rows = [(t, s) for t, s in pool_rows if s == NO_PART or s in catalog]
    same_part: dict[str, list[str]] = {}
    for text, sku in pool_rows:
        if sku != NO_PART:
            same_part.setdefault(sku, []).append(text)

    source = history if anchors is None else anchors
    anchor_rows = list(dict.fromkeys((e.text, e.sku) for e in source if e.sku in catalog))
    if not anchor_rows:
        return []

    lexical = BM25Signal()
    catalog_only = CatalogViewBuilder(lexical_history=False).build(list(parts), [])

    catalog_vectors = embed(catalog_texts)
    pool_vectors = embed([t for t, _ in pool_rows]) if pool_rows else None
    anchor_vectors = embed([t for t, _ in anchor_rows])

    fetch_catalog = min(config.fetch, len(catalog_skus))
    triplets: list[Triplet] = []
    for start in range(0, len(anchor_rows), _BLOCK):
        block = anchor_vectors[start : start + _BLOCK]
        near_catalog = _top(block @ catalog_vectors.T, fetch_catalog)
        near_pool = (
            _top(block @ pool_vectors.T, min(config.fetch, len(pool_rows)))
            if pool_vectors is not None
            else None
        )
        for offset, (text, sku) in enumerate(anchor_rows[start : start + _BLOCK]):
            assert sku is not None
            positive = catalog[sku]

            def other_part(candidate_sku: str, positive: str = positive, sku: str = sku) -> bool:
                return candidate_sku != sku and catalog[candidate_sku] != positive

            by_bm25 = [
                h.sku
                for h in lexical.search(catalog_only, Query.parse(text), config.fetch)
                if h.sku in catalog and other_part(h.sku)
            ][: config.depth]
            by_vector = [
                catalog_skus[j] for j in near_catalog[offset] if other_part(catalog_skus[j])
            ][: config.depth]
            # Neither ranking offers another part only on tiny catalogs: any other part will do.
            rankings = [r for r in (by_bm25, by_vector) if r] or [
                [s for s in catalog_skus if other_part(s)]
            ]
            if not rankings[0]:
                continue  # every other part has this part's very catalog text
            negative_sku = rng.choice(rng.choice(rankings))
            catalog_negative = Triplet(
                text, positive, catalog[negative_sku], sku, negative_sku, CATALOG
            )
            # A text that is its part's catalog text already teaches nothing as a pair.
            if config.catalog_pairs and fold(text) != fold(positive):
                triplets.append(catalog_negative)

            if not config.history_pairs:
                continue
            siblings = [t for t in same_part.get(sku, []) if t != text]
            if not siblings:
                continue
            sibling = rng.choice(siblings)
            near = near_pool[offset] if near_pool is not None else []
            history_negatives = [
                pool_rows[j]
                for j in near
                if pool_rows[j][1] != sku and pool_rows[j][0] not in (text, sibling)
            ][: config.depth]
            if history_negatives:
                negative_text, negative_label = rng.choice(history_negatives)
                triplets.append(Triplet(text, sibling, negative_text, sku, negative_label, HISTORY))
            else:
                triplets.append(
                    Triplet(text, sibling, catalog_negative.negative, sku, negative_sku, HISTORY)
                )
    return triplets


def _top(similarities: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k highest values, best first."""
    if k <= 0:
        return np.zeros((similarities.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(similarities, part, axis=1).argsort(axis=1)[:, ::-1]
    top: np.ndarray = np.take_along_axis(part, order, axis=1)
    return top
