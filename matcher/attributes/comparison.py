"""Each candidate against what the customer stated: agrees, conflicts, or says nothing."""

from __future__ import annotations

from matcher.attributes.marks import Mark
from matcher.attributes.measures import same, shown
from matcher.attributes.statement import Stated
from matcher.attributes.vocabulary import PartAttributes

SIZE = "size"


def compare(stated: Stated, part: PartAttributes) -> tuple[Mark, ...]:
    marks = []
    for attribute, values, said in stated.compared:
        value = part.values.get(attribute)
        if value is not None:
            marks.append(Mark(attribute, said, value, part.folded[attribute] in values))
    if stated.years and part.years is not None:
        first, last = part.years
        agrees = any(first <= year <= last for year in stated.years)
        said = ", ".join(str(y) for y in sorted(stated.years))
        marks.append(Mark(part.years_attribute, said, f"{first}-{last}", agrees))
    for family, value in stated.measured:
        own = part.measures.get(family)
        if own is not None:
            marks.append(
                Mark(SIZE, shown(family, value), shown(family, own), same(family, value, own))
            )
    return tuple(marks)


def mark_features(marks: tuple[Mark, ...]) -> dict[str, float]:
    """Fusion features: how many stated attributes the candidate agrees and conflicts with."""
    agree = sum(m.agrees for m in marks)
    return {"attr_agree": float(agree), "attr_conflict": float(len(marks) - agree)}
