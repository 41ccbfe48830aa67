"""How much of a request a candidate explains: the share of the request's content words found
in the part's own words (its catalog text and the labelled texts of it), a typo allowed.

A request for a product the catalog does not carry ("snow chains for 205/55r16") is explained
only in part by its nearest part (the tyre: the size, not "snow chains"); a request for a part
the catalog has is explained by that part almost whole.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet

from matcher.analysis import terms

# Shorter words and numbers are sizes, codes and filler: attributes and codes judge those.
MIN_CONTENT_CHARS = 3
# One edit, a transposition included ("tyer", "batery"), in a word this long: two would make
# "interior" explain "exterior".
TYPO_MIN_CHARS = 4
# A word in the labelled texts of this share of the parts with any is filler ("urgent",
# "price", "stock"), whatever the part.
COMMON_SHARE = 0.25


def content_terms(text: str, ignored: Collection[str] = ()) -> list[str]:
    """The request's words that name what it is: analysed terms, alphabetic, neither filler
    nor a word that states an attribute (a make, a model, a side)."""
    return [
        t
        for t in dict.fromkeys(terms(text))
        if t.isalpha() and len(t) >= MIN_CONTENT_CHARS and t not in ignored
    ]


def explained_share(explaining: Sequence[AbstractSet[str]], own: AbstractSet[str]) -> float:
    """Share of the wanted words found in `own`, each exactly or with a typo, from each
    wanted word's explainers: itself and, in a word long enough for a typo, each word of the
    catalog one edit away (matcher/catalog_view/typo_index.py); 1.0 for nothing wanted (a
    part number alone, a vehicle alone: nothing left unexplained)."""
    if not explaining:
        return 1.0
    return sum(not own.isdisjoint(words) for words in explaining) / len(explaining)


def own_terms(
    catalog_terms: Mapping[str, Iterable[str]], history: Iterable[tuple[str | None, list[str]]]
) -> dict[str, frozenset[str]]:
    """Each part's own words: its analysed catalog text and its labelled texts."""
    words: dict[str, set[str]] = {sku: set(t) for sku, t in catalog_terms.items()}
    for sku, text_terms in history:
        if sku is not None and sku in words:
            words[sku].update(text_terms)
    return {sku: frozenset(w) for sku, w in words.items()}


def common_terms(history: Iterable[tuple[str | None, list[str]]]) -> frozenset[str]:
    parts_of: dict[str, set[str]] = {}
    for sku, text_terms in history:
        if sku is not None:
            for term in text_terms:
                parts_of.setdefault(term, set()).add(sku)
    labelled = len({sku for skus in parts_of.values() for sku in skus})
    floor = max(2.0, COMMON_SHARE * labelled)
    return frozenset(t for t, skus in parts_of.items() if len(skus) >= floor)
