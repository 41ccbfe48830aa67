"""The check of a request's candidates against the request itself: how each compares with the
attributes the customer stated, how much of the request's words it explains, and whether the
numbers the customer typed are its own. Fusion reads the result as one more signal's hits.

Candidates are checked as the signals propose them (`add`), so that the ones the lexical
signals find are checked while the query's encoder pass still runs, and only those the vector
signals add are left for after it. Checked in any number of steps, the hits are the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from matcher.attributes import Mark, Stated, compare, mark_features, stated
from matcher.catalog_view import CatalogView
from matcher.coverage import content_terms, explained_share, explainers
from matcher.query import Query
from matcher.signals.base import Hit


class CandidateCheck:
    """One request's check; `add` the signals' hits as they come, then read `hits`."""

    def __init__(self, view: CatalogView, query: Query) -> None:
        self._view = view
        self._said = stated(view.attributes, query.raw, query.vehicle)
        self._wanted = content_terms(query.raw, view.common_terms | self._said.words)
        # A number the customer typed that no part of the catalog carries points to a product
        # the catalog does not have, and so does a candidate whose own numbers differ.
        self._codes = bool(query.codes)
        self._exact = {sku for code in query.codes for sku in view.codes.owners.get(code, {})}
        self._unmatched = float(self._codes and not self._exact)
        self.marks: dict[str, tuple[Mark, ...]] = {}
        # Each checked candidate's features but coverage, in two parts that hits() puts
        # around it (fusion reads features by name; the order is the one they always had).
        self._marked: dict[str, dict[str, float]] = {}
        self._features: dict[str, dict[str, float]] = {}
        self._own: dict[str, frozenset[str]] = {}
        # Each wanted word's explainers among the checked candidates' own words: a word's
        # explainers among two sets of words are its explainers among each, united.
        self._vocabulary: set[str] = set()
        self._explaining = [frozenset([term]) for term in self._wanted]

    def add(self, hits: Iterable[Sequence[Hit]]) -> None:
        """Checks the candidates of these hits not checked yet."""
        view = self._view
        new = {h.sku for signal_hits in hits for h in signal_hits} - self._features.keys()
        new.intersection_update(view.analysed)
        for sku in new:
            marks = self.marks[sku] = _marks(view, self._said, sku)
            self._own[sku] = view.own_terms.get(sku, frozenset())
            self._marked[sku] = mark_features(marks)
            self._features[sku] = {
                "code_other": float(
                    self._codes and sku not in self._exact and bool(view.analysed[sku].codes)
                ),
                "unmatched_code": self._unmatched,
                "unseen": float(not view.history_counts.get(sku)),
            }
        words = frozenset().union(*(self._own[sku] for sku in new)) - self._vocabulary
        if words:
            found = explainers(self._wanted, words)
            self._explaining = [a | b for a, b in zip(self._explaining, found, strict=True)]
            self._vocabulary.update(words)

    def hits(self) -> list[Hit]:
        """Every checked candidate's features, by SKU."""
        return [
            Hit(
                sku,
                0.0,
                {
                    **self._marked[sku],
                    "coverage": explained_share(self._explaining, self._own[sku]),
                    **self._features[sku],
                },
            )
            for sku in sorted(self._features)
        ]


def _marks(view: CatalogView, said: Stated, sku: str) -> tuple[Mark, ...]:
    attributes = view.attributes.parts.get(sku)
    return compare(said, attributes) if said and attributes is not None else ()
