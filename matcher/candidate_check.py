"""The check of a request's candidates against the request itself: how each compares with the
attributes the customer stated, how much of the request's words it explains, and whether the
numbers the customer typed are its own. Fusion reads the result as one more signal's hits.

Candidates are checked as the signals propose them (`add`), so that the ones the lexical
signals find are checked while the query's encoder pass still runs, and only those the vector
signals add are left for after it. Checked in any number of steps, the hits are the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from matcher.attributes import Mark, compare, mark_features, stated
from matcher.attributes.variants import undecided
from matcher.catalog_view import CatalogView
from matcher.coverage import content_terms, explained_share
from matcher.query import Query
from matcher.ranking import Stance
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
        # Of each candidate with a mark: the attributes it agrees with, and conflicts with.
        self.stances: dict[str, Stance] = {}
        # Each checked candidate's mark features, own words, and code_other and unseen.
        self._checked: dict[str, tuple[dict[str, float], frozenset[str], float, float]] = {}
        # Each wanted word's explainers among every part's own words: a candidate's own words
        # are among them, so its coverage is the same as among the candidates' words alone.
        self._explaining = [view.typos.near(term) for term in self._wanted]

    def add(self, hits: Iterable[Sequence[Hit]]) -> None:
        """Checks the candidates of these hits not checked yet."""
        view, said, exact = self._view, self._said, self._exact
        proposed = {h.sku for signal_hits in hits for h in signal_hits}
        new = [s for s in proposed if s in view.analysed and s not in self._checked]
        for sku in new:
            attributes = view.attributes.parts.get(sku)
            marks = self.marks[sku] = (
                compare(said, attributes) if said and attributes is not None else ()
            )
            if marks:
                self.stances[sku] = (
                    frozenset(m.attribute for m in marks if m.agrees),
                    frozenset(m.attribute for m in marks if not m.agrees),
                )
            self._checked[sku] = (
                mark_features(marks),
                view.own_terms.get(sku, frozenset()),
                float(self._codes and sku not in exact and bool(view.analysed[sku].codes)),
                float(not view.history_counts.get(sku)),
            )

    def hits(self) -> list[Hit]:
        """Every checked candidate's features, by SKU."""
        explaining, unmatched = self._explaining, self._unmatched
        undecided = self._undecided()
        return [
            Hit(
                sku,
                0.0,
                {
                    **marked,
                    "coverage": explained_share(explaining, own),
                    "code_other": code_other,
                    "unmatched_code": unmatched,
                    "unseen": unseen,
                    "undecided": float(sku in undecided),
                },
            )
            for sku, (marked, own, code_other, unseen) in sorted(self._checked.items())
        ]

    def _undecided(self) -> set[str]:
        parts = self._view.attributes.parts
        checked = {sku: parts[sku] for sku in self._checked if sku in parts}
        # Ruled out: what contradicts a stated attribute and, where a number the customer
        # typed is some candidates' own, every candidate it is not ("f150" is every F-150
        # part's: it tells none of them apart).
        ruled_out = {sku for sku, (_, against) in self.stances.items() if against}
        if self._exact:
            ruled_out |= checked.keys() - self._exact
        return undecided(checked, ruled_out)
