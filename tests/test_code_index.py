"""The near-miss search looks at the codes that share a typed code's first or last characters
only; it must find exactly what comparing with every code finds."""

from __future__ import annotations

import random
import string

from rapidfuzz.distance import Levenshtein

from matcher.catalog_view.code_index import NEAR_MISS_MIN_CHARS, CodeIndex

ALPHABET = string.ascii_uppercase[:6] + string.digits[:4]  # small: many codes one edit apart


def one_edit(code: str, rng: random.Random) -> str:
    at = rng.randrange(len(code) + 1)
    kind = rng.choice(("substitute", "insert", "delete"))
    if kind == "insert" or at == len(code):
        return code[:at] + rng.choice(ALPHABET) + code[at:]
    if kind == "delete":
        return code[:at] + code[at + 1 :]
    return code[:at] + rng.choice(ALPHABET) + code[at + 1 :]


def test_near_misses_are_every_code_one_edit_away_and_nothing_else() -> None:
    rng = random.Random(7)
    codes = {"".join(rng.choices(ALPHABET, k=rng.randint(4, 9))) for _ in range(3000)}
    # Many codes one edit from another, wherever the edit falls.
    codes |= {one_edit(c, rng) for c in list(codes)[:1500]}
    index = CodeIndex.build((f"P{i}", {code: 1.0}) for i, code in enumerate(sorted(codes)))
    long_codes = [c for c in codes if len(c) >= NEAR_MISS_MIN_CHARS]
    typed = [one_edit(rng.choice(long_codes), rng) for _ in range(400)]
    found_some = 0
    for text in typed:
        want = sorted(c for c in long_codes if Levenshtein.distance(text, c) == 1)
        got = index.near_misses(text, limit=len(codes))
        assert got == (want if len(text) >= NEAR_MISS_MIN_CHARS else []), text
        found_some += bool(got)
    assert found_some > 300


def test_a_changed_index_finds_the_new_codes_as_near_misses() -> None:
    index = CodeIndex.build([("A", {"1K0698451J": 1.0})])
    changed = index.changed({"B": {"8V0698451C": 1.0}}, {})
    assert changed.near_misses("8V0698451D") == ["8V0698451C"]
    assert changed.near_misses("1K0698451K") == ["1K0698451J"]
    assert index.near_misses("8V0698451D") == []  # the index it came from is unchanged
