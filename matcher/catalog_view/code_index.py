"""Part and model numbers of every part, normalised, with how much each identifies its part."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from matcher.catalog import Part
from matcher.query import extract_codes, normalise_code

# Codes found in free text count for less than the part's own numbers (its code attributes,
# matcher/catalog_view/code_attributes.py) because a description may mention a compatible or
# superseded number.
FREE_TEXT_WEIGHT = 0.9
# A code this long with one character wrong is still recognisably that code.
NEAR_MISS_MIN_CHARS = 6


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
    # The codes long enough to be told apart from a typo of another: the near-miss search space.
    long_codes: tuple[str, ...] = ()

    @classmethod
    def build(cls, codes: Iterable[tuple[str, Mapping[str, float]]]) -> CodeIndex:
        """From (sku, part_codes(part)) of each part."""
        owners: dict[str, dict[str, float]] = {}
        for sku, weights in codes:
            for code, weight in weights.items():
                owners.setdefault(code, {})[sku] = weight
        return cls(owners, tuple(c for c in owners if len(c) >= NEAR_MISS_MIN_CHARS))

    def changed(
        self,
        upserted: Mapping[str, Mapping[str, float]],
        removed: Mapping[str, Iterable[str]],
    ) -> CodeIndex:
        """The index after parts' codes changed (`upserted`: SKU -> part_codes) and parts lost
        their old codes (`removed`: SKU -> the codes it had). Only the codes touched are copied."""
        owners = dict(self.owners)
        for sku, codes in removed.items():
            for code in codes:
                held = {s: w for s, w in owners.get(code, {}).items() if s != sku}
                if held:
                    owners[code] = held
                else:
                    owners.pop(code, None)
        added: list[str] = []
        for sku, weights in upserted.items():
            for code, weight in weights.items():
                if code not in owners and len(code) >= NEAR_MISS_MIN_CHARS:
                    added.append(code)
                owners[code] = {**owners.get(code, {}), sku: weight}
        # Codes no part holds any more stay in the near-miss space until the next build: they
        # find no owner, and filtering them out would read every code of the catalog.
        return CodeIndex(owners, self.long_codes + tuple(added))
