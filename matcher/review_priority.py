"""The review queue's priority policy: which answers a person should check first.

An item's priority is its base (how much a label would settle: the uncertainty of the answer,
unless the caller gives a priority) times a boost for how often the same text came in while
the item waited.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matcher.engine import Candidate


def uncertainty(candidates: Sequence[Candidate]) -> float:
    """1 - (c1 - c2): near 1 when the top two candidates are close (a label settles the most),
    near 0 when one clearly wins. One candidate counts against an implicit zero."""
    if not candidates:
        return 1.0
    top = candidates[0].confidence
    second = candidates[1].confidence if len(candidates) > 1 else 0.0
    return min(1.0, max(0.0, 1.0 - (top - second)))


def repeat_boost(seen: int) -> float:
    # Logarithmic: a text asked a hundred times should rise, but not drown every other item.
    return 1.0 + math.log(max(1, seen))


def base_priority(candidates: Sequence[Candidate], given: float | None = None) -> float:
    """The priority of one answer before repeats count: `given` if set, else its uncertainty."""
    return uncertainty(candidates) if given is None else float(given)


def repeated_base(first: float, again: float) -> float:
    """The base of an item whose text came in again with an answer of base `again`."""
    # The most uncertain answer seen for this text is what a label would settle.
    return max(first, again)


def priority(base: float, seen: int) -> float:
    """The priority the queue sorts by: the base, boosted by how often the text was seen."""
    return base * repeat_boost(seen)
