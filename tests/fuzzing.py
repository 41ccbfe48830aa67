"""Shared pieces of the property-based fuzzers (tests/test_fuzz_*.py): one settings profile,
hostile strings, and a tally of the inputs each fuzzer tried.

The default run tries FUZZ_EXAMPLES inputs per target (150: the whole RPC module runs in about
a minute and a half on two cores); PARTMATCH_LONG_TESTS=1 raises it to 2000, and
PARTMATCH_FUZZ_EXAMPLES sets it outright. Runs are
derandomized, so CI sees the same inputs every time, and a failure shrinks to a small input.
"""

from __future__ import annotations

import os
import unicodedata
from collections import Counter
from typing import TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

T = TypeVar("T")

LONG = os.environ.get("PARTMATCH_LONG_TESTS", "") not in ("", "0")
FUZZ_EXAMPLES = int(os.environ.get("PARTMATCH_FUZZ_EXAMPLES", 2000 if LONG else 150))

FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # Huge strings are built on purpose; generating them is not the code under test.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

# Characters that have broken text handling somewhere before: controls, NUL, line and
# paragraph separators, zero-width and bidirectional controls, the BOM, non-characters,
# combining marks, private use, astral planes, case-folding oddities, digits of other
# scripts, and the punctuation of SQL, JSON, CSV and paths.
TRICKY = (
    "\x00", "\x01", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x7f", "\x85", "\xa0",
    "\u200b", "\u200c", "\u200d", "\u2028", "\u2029", "\u202e", "\u2066", "\u2069",
    "\ufeff", "\ufffd", "\uffff", "\ufdd0", "\U0010ffff", "\U000e0001", "\ue000", "\u0301",
    "ß", "İ", "ﬃ", "Σ", "𝔅", "😀", "👩‍👩‍👧", "٣", "𝟙", " ", "%", "_", "'", '"', "\\",
    ";", "--", "*", "?", "/", "..", "{", "}", "[", "]", ",", ":", "=",
)  # fmt: skip

# Every code point UTF-8 can carry (no surrogates: protobuf strings are valid UTF-8).
_ANY_CHAR = st.characters(codec="utf-8")
_PIECE = st.one_of(_ANY_CHAR, st.sampled_from(TRICKY))


def short_text(max_size: int = 40, min_size: int = 0) -> st.SearchStrategy[str]:
    """Random characters and tricky pieces (about `max_size` of them)."""
    return st.lists(_PIECE, min_size=min_size, max_size=max_size).map("".join)


def long_text(lengths: tuple[int, ...], cap: int = 20_000) -> st.SearchStrategy[str]:
    """A short random unit repeated to one of `lengths` characters (limits and their
    neighbours, or more than a message may hold), or to a random length up to `cap`."""
    length = st.one_of(st.sampled_from(lengths), st.integers(1, cap))
    unit = short_text(6, min_size=1)
    return st.builds(lambda u, n: (u * (n // len(u) + 1))[:n], unit, length)


def hostile_text(
    lengths: tuple[int, ...] = (999, 1000, 1001, 10_000), words: tuple[str, ...] = ()
) -> st.SearchStrategy[str]:
    """Empty, blank, random Unicode, words of the domain salted with tricky characters, and
    huge strings."""
    salted = st.builds(
        lambda a, b, c: f"{a}{b}{c}",
        st.sampled_from(words or ("brake pads",)),
        st.sampled_from(TRICKY),
        short_text(8),
    )
    return st.one_of(
        st.sampled_from(("", " ", "\n", "\t \r\n", "\u3000", "\u200b")),
        short_text(),
        salted,
        long_text(lengths),
    )


def visible_text(max_size: int = 60) -> st.SearchStrategy[str]:
    """Text every field accepts, however odd: any code point but controls, surrogates and
    bidirectional controls, with something besides spaces (it reaches the engine)."""
    allowed = st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
        st.sampled_from(_VISIBLE_TRICKY),
    )
    return st.text(allowed, min_size=1, max_size=max_size).filter(
        lambda s: bool(s.strip()) and not any(c in _BIDI for c in s)
    )


def mostly(
    good: st.SearchStrategy[T], bad: st.SearchStrategy[T], good_in: int = 2
) -> st.SearchStrategy[T]:
    """`good` (valid but odd: it gets past validation) in `good_in - 1` draws of `good_in`,
    `bad` in the others; shrinks towards `bad`."""
    return st.integers(0, good_in - 1).flatmap(lambda i: bad if i == 0 else good)


_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# The tricky characters every text field accepts (line and paragraph separators, zero-width
# characters, the BOM, non-characters, ...).
_VISIBLE_TRICKY = tuple(
    c
    for c in TRICKY
    if len(c) == 1 and unicodedata.category(c) not in ("Cc", "Cs") and c not in _BIDI
)

INT32 = st.one_of(
    st.sampled_from((0, 1, -1, 2**31 - 1, -(2**31))),
    st.integers(-(2**31), 2**31 - 1),
)


class Tally:
    """Inputs tried per target, and how each was answered: a fuzzer that silently stops
    generating shows up as a low count (see each module's last test)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.outcomes: dict[str, Counter[str]] = {}

    def __call__(self, target: str, outcome: str = "") -> None:
        self.counts[target] += 1
        if outcome:
            self.outcomes.setdefault(target, Counter())[outcome] += 1

    def report(self, title: str) -> str:
        width = max((len(t) for t in self.counts), default=0)
        lines = [f"{title} (max_examples={FUZZ_EXAMPLES} per target):"]
        for target, count in sorted(self.counts.items()):
            seen = self.outcomes.get(target, Counter())
            how = ", ".join(f"{o} {n}" for o, n in seen.most_common())
            lines.append(f"  {target:<{width}}  {count:>5}  {how}")
        return "\n".join(lines)
