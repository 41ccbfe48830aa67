"""Near-copy detection, which keeps valid/test texts from repeating history or each other."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Two texts with the same label whose token sets overlap at least this much
# count as near-copies.
NEAR_COPY_JACCARD = 0.6

_TOKEN = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@dataclass
class SeenTexts:
    """Normalised forms and token sets of texts already used, for near-copy checks."""

    exact: set[str] = field(default_factory=set)
    bags: set[tuple[str, ...]] = field(default_factory=set)
    by_label: dict[str, list[frozenset[str]]] = field(default_factory=dict)

    def add(self, text: str, label: str) -> None:
        toks = _tokens(text)
        self.exact.add(" ".join(toks))
        self.bags.add(tuple(sorted(toks)))
        self.by_label.setdefault(label, []).append(frozenset(toks))

    def near(self, text: str, label: str) -> bool:
        toks = _tokens(text)
        if " ".join(toks) in self.exact or tuple(sorted(toks)) in self.bags:
            return True
        bag = frozenset(toks)
        for other in self.by_label.get(label, ()):
            if len(bag & other) >= NEAR_COPY_JACCARD * len(bag | other):
                return True
        return False
