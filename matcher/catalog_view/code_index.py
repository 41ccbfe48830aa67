"""Part and model numbers of every part, normalised, with how much each identifies its part."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from matcher.catalog import Part
from matcher.catalog_view.layered import Layered
from matcher.query import extract_codes, normalise_code

# Codes found in free text count for less than the part's own numbers (its code attributes,
# matcher/catalog_view/code_attributes.py) because a description may mention a compatible or
# superseded number.
FREE_TEXT_WEIGHT = 0.9
# A code this long with one character wrong is still recognisably that code.
NEAR_MISS_MIN_CHARS = 6
# Two codes of at least NEAR_MISS_MIN_CHARS one edit apart share their first or their last
# AFFIX characters (an edit in the first three leaves the last three alone, and the other way
# round), so a typed code is compared only with the codes that share one of its ends.
AFFIX = 3


def part_codes(part: Part, code_attributes: Collection[str]) -> dict[str, float]:
    """The part's codes and their weights: 1.0 from a code attribute, less from free text."""
    codes = dict.fromkeys(
        extract_codes(" ".join((*part.names(), part.description)), join_adjacent=False),
        FREE_TEXT_WEIGHT,
    )
    for attribute in sorted(code_attributes):
        value = part.attributes.get(attribute)
        if value and len(normalise_code(value)) >= 3:
            codes[normalise_code(value)] = 1.0
    return codes


@dataclass(frozen=True)
class CodeIndex:
    # Normalised code -> {sku: weight}.
    owners: Mapping[str, Mapping[str, float]]
    # The codes long enough to be told apart from a typo of another (the near-miss space),
    # by their first and by their last AFFIX characters.
    by_prefix: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by_suffix: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, codes: Iterable[tuple[str, Mapping[str, float]]]) -> CodeIndex:
        """From (sku, part_codes(part)) of each part."""
        owners: dict[str, dict[str, float]] = {}
        for sku, weights in codes:
            for code, weight in weights.items():
                owners.setdefault(code, {})[sku] = weight
        prefixes: dict[str, list[str]] = {}
        suffixes: dict[str, list[str]] = {}
        for code in owners:
            if len(code) >= NEAR_MISS_MIN_CHARS:
                prefixes.setdefault(code[:AFFIX], []).append(code)
                suffixes.setdefault(code[-AFFIX:], []).append(code)
        return cls(
            owners,
            {k: tuple(v) for k, v in prefixes.items()},
            {k: tuple(v) for k, v in suffixes.items()},
        )

    def near_misses(self, code: str, limit: int = 5) -> list[str]:
        """Up to `limit` codes one edit away from `code` (none for a short code)."""
        if len(code) < NEAR_MISS_MIN_CHARS:
            return []
        shortlist = {
            *self.by_prefix.get(code[:AFFIX], ()),
            *self.by_suffix.get(code[-AFFIX:], ()),
        }
        found = process.extract(
            code, shortlist, scorer=Levenshtein.distance, score_cutoff=1, limit=None
        )
        # Sorted, so that equally near codes come out the same way on every run.
        return sorted(other for other, distance, _ in found if distance == 1)[:limit]

    def with_near_misses(self, codes: Iterable[str]) -> CodeIndex:
        """This index with `codes` added to the near-miss space."""
        prefixes: dict[str, tuple[str, ...]] = {}
        suffixes: dict[str, tuple[str, ...]] = {}
        for code in codes:
            if len(code) >= NEAR_MISS_MIN_CHARS:
                start, end = code[:AFFIX], code[-AFFIX:]
                prefixes[start] = (*prefixes.get(start, self.by_prefix.get(start, ())), code)
                suffixes[end] = (*suffixes.get(end, self.by_suffix.get(end, ())), code)
        return replace(
            self,
            by_prefix=Layered.of(self.by_prefix).changed(prefixes),
            by_suffix=Layered.of(self.by_suffix).changed(suffixes),
        )

    def changed(
        self,
        upserted: Mapping[str, Mapping[str, float]],
        removed: Mapping[str, Iterable[str]],
    ) -> CodeIndex:
        """The index after parts' codes changed (`upserted`: SKU -> part_codes) and parts lost
        their old codes (`removed`: SKU -> the codes it had). Only the codes touched are copied."""
        updates: dict[str, Mapping[str, float]] = {}
        dropped: set[str] = set()

        def held(code: str) -> Mapping[str, float]:
            if code in updates:
                return updates[code]
            return {} if code in dropped else self.owners.get(code, {})

        for sku, codes in removed.items():
            for code in codes:
                rest = {s: w for s, w in held(code).items() if s != sku}
                if rest:
                    updates[code] = rest
                else:
                    updates.pop(code, None)
                    dropped.add(code)
        added: list[str] = []
        for sku, weights in upserted.items():
            for code, weight in weights.items():
                if code not in self.owners and code not in updates:
                    added.append(code)
                updates[code] = {**held(code), sku: weight}
                dropped.discard(code)
        # Codes no part holds any more stay in the near-miss space until the next build: they
        # find no owner.
        owners = Layered.of(self.owners).changed(updates, dropped)
        return replace(self, owners=owners).with_near_misses(added)
