"""Candidates the customer did not tell apart: parts of one kind, neither contradicting what
was stated, whose names differ in a value the request says nothing of ("Tail Light, Left" and
"Tail Light, Right" for "corolla tail light", or for "n/s tail light corolla" where "n/s" is
not read). Which of them the customer needs is a guess, so neither is used without a person.

Parts that differ only in a value their names do not spell (a brand) are alike for the
customer's purpose, and stay usable.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from collections.abc import Set as AbstractSet

from matcher.attributes.vocabulary import PartAttributes


def undecided(candidates: Mapping[str, PartAttributes], ruled_out: AbstractSet[str]) -> set[str]:
    """The candidates (SKU -> attributes) with another of their kind that the request has not
    `ruled_out` and that differs from them in a value their name spells."""
    of_kind: defaultdict[tuple[str, ...], list[str]] = defaultdict(list)
    for sku, part in candidates.items():
        if part.kind:
            of_kind[part.kind].append(sku)
    found: set[str] = set()
    for skus in of_kind.values():
        open_ = [s for s in skus if s not in ruled_out]
        for sku in skus:
            part = candidates[sku]
            if any(o != sku and _named_apart(part, candidates[o]) for o in open_):
                found.add(sku)
    return found


def _named_apart(part: PartAttributes, other: PartAttributes) -> bool:
    return any(other.values.get(a) != part.values[a] for a in part.named)
