"""Every name and alias of every part, processed once for fuzzy matching (rapidfuzz)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import utils

from matcher.catalog import Part


def processed_names(part: Part) -> tuple[str, ...]:
    return tuple(utils.default_process(name) for name in part.names())


@dataclass(frozen=True)
class NameIndex:
    choices: list[str]
    # choices[i] is a name of part skus[i].
    skus: list[str]

    @classmethod
    def build(cls, names: Iterable[tuple[str, tuple[str, ...]]]) -> NameIndex:
        """From (sku, processed names) of each part."""
        choices: list[str] = []
        skus: list[str] = []
        for sku, part_names in names:
            choices.extend(part_names)
            skus.extend([sku] * len(part_names))
        return cls(choices, skus)
