"""Batches for MultipleNegativesRankingLoss in which no in-batch negative is a false one."""

from __future__ import annotations

import random
from collections.abc import Sequence

from indexer.training.pairs import Triplet


def compose_batches(
    examples: Sequence[Triplet], batch_size: int, rng: random.Random
) -> list[list[Triplet]]:
    """Shuffled batches in which every anchor's in-batch negatives are truly other parts.

    MultipleNegativesRankingLoss scores each anchor against every positive and negative in
    the batch; a second anchor of the same part, or another triplet's negative drawn from
    the anchor's part, would be scored as a wrong answer. Triplets are placed first-fit
    into open batches that have room and no such clash; on a catalog with few parts,
    batches come out smaller than `batch_size` rather than wrong.

    Each batch holds one kind of triplet: a column is padded to its longest text, and a
    single catalog description among short customer texts would make the whole column
    pay for its length.
    """
    order = list(examples)
    rng.shuffle(order)
    batches: list[list[Triplet]] = []
    for kind in sorted({t.kind for t in order}):
        batches.extend(_pack([t for t in order if t.kind == kind], batch_size))
    # Interleave kinds and leftover batches, so neither comes all at the end.
    rng.shuffle(batches)
    return batches


def _pack(order: Sequence[Triplet], batch_size: int) -> list[list[Triplet]]:
    batches: list[list[Triplet]] = []
    open_batches: list[tuple[list[Triplet], set[str], set[str]]] = []
    for triplet in order:
        for members, anchor_skus, negative_skus in open_batches:
            if (
                triplet.sku not in anchor_skus
                and triplet.sku not in negative_skus
                and triplet.negative_sku not in anchor_skus
            ):
                members.append(triplet)
                anchor_skus.add(triplet.sku)
                negative_skus.add(triplet.negative_sku)
                break
        else:
            open_batches.append(([triplet], {triplet.sku}, {triplet.negative_sku}))
        # A full batch leaves the open list at once, keeping the first-fit scan short.
        full = [b for b in open_batches if len(b[0]) >= batch_size]
        if full:
            batches.extend(b[0] for b in full)
            open_batches = [b for b in open_batches if len(b[0]) < batch_size]
    batches.extend(b[0] for b in open_batches)
    return batches
