"""Every name and alias of every part, processed once for fuzzy matching (rapidfuzz).

Fuzzy scoring costs a few microseconds per name, which is nothing on a few hundred parts and
most of a request on a hundred thousand. Above `SHORTLIST` names, the names that share most
character trigrams with the text are shortlisted first (a sparse trigram matrix, one lookup
per trigram of the text), and only those are scored.

A catalog change does not rebuild the trigram matrix: the names of changed and retired parts
are masked out of it, and the changed parts' new names sit beside it, always scored, until the
view builder folds them into a new index (matcher/catalog_view/view.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
from rapidfuzz import utils
from scipy import sparse

from matcher.catalog import Part

# How many names fuzzy scoring reads at most; a catalog with fewer is read whole.
SHORTLIST = 300


def processed_names(part: Part) -> tuple[str, ...]:
    return tuple(utils.default_process(name) for name in part.names())


def trigrams(text: str) -> set[str]:
    """Character trigrams of a processed text, word edges marked by the padding spaces."""
    padded = f" {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


# Values turned from a Python list into an array per step in `by_gram`.
CHUNK = 65_536


def by_gram(rows: list[int], columns: list[int], shape: tuple[int, int]) -> sparse.csc_matrix:
    """The names-by-trigram matrix of (name row, trigram column) pairs, each pair once, built
    in steps that each hold the GIL briefly: a compaction builds it beside requests
    (matcher/catalog_view/live.py), and scipy's construction from the lists held the GIL for
    150-290 ms at a time at 100,000 parts. The lists become arrays a chunk at a time, and
    numpy's sort, which runs without the GIL, orders the pairs by trigram."""
    row, column = _array(rows), _array(columns)
    # Stable: within a column the rows stay in increasing order, as CSC's canonical form has.
    order = np.argsort(column, kind="stable")
    indptr = np.zeros(shape[1] + 1, dtype=np.int32)
    np.cumsum(np.bincount(column, minlength=shape[1]), out=indptr[1:])
    data = np.ones(len(order), dtype=np.float32)
    return sparse.csc_matrix((data, row[order], indptr), shape=shape)


def _array(values: list[int]) -> np.ndarray:
    if not values:
        return np.zeros(0, dtype=np.int32)
    chunks = [
        np.asarray(values[i : i + CHUNK], dtype=np.int32) for i in range(0, len(values), CHUNK)
    ]
    return np.concatenate(chunks)


@dataclass(frozen=True)
class NameIndex:
    choices: list[str]
    # choices[i] is a name of part skus[i].
    skus: list[str]
    # Names by trigram (rows: choices, columns: gram_ids); None while the catalog is small
    # enough to score whole.
    grams: sparse.csc_matrix | None = None
    gram_ids: dict[str, int] | None = None
    # Rows of each part's names in `choices`.
    rows_of: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # False for a name of a part since changed or retired; None while all are live.
    alive: np.ndarray | None = None
    # Processed names of the parts changed since the index was built.
    recent: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, names: Iterable[tuple[str, tuple[str, ...]]]) -> NameIndex:
        """From (sku, processed names) of each part."""
        choices: list[str] = []
        skus: list[str] = []
        rows_of: dict[str, tuple[int, ...]] = {}
        for sku, part_names in names:
            rows_of[sku] = tuple(range(len(choices), len(choices) + len(part_names)))
            choices.extend(part_names)
            skus.extend([sku] * len(part_names))
        if len(choices) <= SHORTLIST:
            return cls(choices, skus, rows_of=rows_of)
        gram_ids: dict[str, int] = {}
        rows: list[int] = []
        columns: list[int] = []
        for row, name in enumerate(choices):
            for gram in trigrams(name):
                rows.append(row)
                columns.append(gram_ids.setdefault(gram, len(gram_ids)))
        grams = by_gram(rows, columns, (len(choices), len(gram_ids)))
        return cls(choices, skus, grams, gram_ids, rows_of)

    def changed(
        self, upserted: Mapping[str, tuple[str, ...]], removed: Collection[str]
    ) -> NameIndex:
        """The index after parts' names changed (`upserted`: SKU -> processed names) and parts
        were retired (`removed`)."""
        gone = set(removed) | set(upserted)
        recent = {s: n for s, n in self.recent.items() if s not in gone}
        recent.update(upserted)
        rows = [r for sku in gone for r in self.rows_of.get(sku, ())]
        alive = self.alive
        if rows:
            alive = np.ones(len(self.choices), bool) if alive is None else alive.copy()
            alive[rows] = False
        return replace(self, alive=alive, recent=recent)

    def shortlist(self, text: str) -> tuple[list[str], list[str]]:
        """The names worth scoring against a processed text, and the SKU of each (lists, not
        a mapping: building hundreds of keys a query cost as much as scoring them)."""
        names = [name for part_names in self.recent.values() for name in part_names]
        skus = [sku for sku, part_names in self.recent.items() for _ in part_names]
        if self.grams is None or self.gram_ids is None:
            live = range(len(self.choices)) if self.alive is None else np.flatnonzero(self.alive)
        else:
            columns = [c for g in trigrams(text) if (c := self.gram_ids.get(g)) is not None]
            if not columns:
                return names, skus
            # Each column's rows read straight from the CSC arrays: slicing the matrix costs
            # more than the fuzzy scoring of the names it finds.
            start, rows = self.grams.indptr, self.grams.indices
            shared = np.bincount(
                np.concatenate([rows[start[c] : start[c + 1]] for c in columns]),
                minlength=len(self.choices),
            )
            if self.alive is not None:
                shared[~self.alive] = 0
            best = np.argpartition(-shared, SHORTLIST - 1)[:SHORTLIST]
            live = best[shared[best] > 0]
        return [self.choices[i] for i in live] + names, [self.skus[i] for i in live] + skus
