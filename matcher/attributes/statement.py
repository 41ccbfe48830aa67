"""What a customer stated: attribute values, model years and sizes found in the text and in
the vehicle the storefront sends as context. The text wins where the two disagree."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from rapidfuzz.distance import OSA

from matcher.analysis import stem
from matcher.attributes.measures import measures
from matcher.attributes.vocabulary import AttributeVocabulary, Statement
from matcher.english import english_words
from matcher.query import fold, words

_SHORT_YEAR = re.compile(r"(?:'|’|\bmy\s?)(\d{2})\b|\b(\d{2})\s*(?:plate|reg)\b")
_FIRST_YEAR, _LAST_YEAR = 1950, 2039


@dataclass(frozen=True)
class Stated:
    # Attribute -> the catalog values the customer named for it.
    values: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Attribute -> what the customer typed for it, for explanations.
    said: Mapping[str, str] = field(default_factory=dict)
    years: frozenset[int] = frozenset()
    measures: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.values or self.years or self.measures)

    @cached_property
    def folded(self) -> Mapping[str, frozenset[str]]:
        """`values` folded, once per request: every candidate is compared with them, and a
        large catalog's vehicle names one model by hundreds of values."""
        return {a: frozenset(fold(v) for v in values) for a, values in self.values.items()}

    @cached_property
    def compared(self) -> tuple[tuple[str, frozenset[str], str], ...]:
        """(attribute, folded values, what the customer typed) of each stated attribute, in
        order: sorted once per request, not once per candidate."""
        return tuple(
            (attribute, values, self.said.get(attribute, ""))
            for attribute, values in sorted(self.folded.items())
        )

    @cached_property
    def measured(self) -> tuple[tuple[str, str], ...]:
        """The stated measures by family, in order."""
        return tuple(sorted(self.measures.items()))

    @property
    def words(self) -> frozenset[str]:
        """The words that stated attribute values ("corola", "passenger", "side")."""
        return frozenset(w for said in self.said.values() for w in said.replace("/", " ").split())


def stated(vocabulary: AttributeVocabulary, text: str, vehicle: str = "") -> Stated:
    found = _read(vocabulary, text)
    if not vehicle.strip():
        return found
    context = _read(vocabulary, vehicle)
    return Stated(
        values={**context.values, **found.values},
        said={**context.said, **found.said},
        years=found.years or context.years,
        measures={**context.measures, **found.measures},
    )


def _read(vocabulary: AttributeVocabulary, text: str) -> Stated:
    tokens = words(text)
    values: dict[str, set[str]] = defaultdict(set)
    said: dict[str, list[str]] = defaultdict(list)
    years: set[int] = set()
    i = 0
    while i < len(tokens):
        length, statements = _longest_phrase(vocabulary, tokens, i)
        if statements:
            typed = " ".join(tokens[i : i + length])
            for attribute, value in statements:
                values[attribute].add(value)
                if typed not in said[attribute]:
                    said[attribute].append(typed)
            i += length
            continue
        year = _year(vocabulary, tokens, i)
        if year is not None:
            years.add(year)
        i += 1
    for match in _SHORT_YEAR.finditer(fold(text)):
        years.add(_century(int(match[1] or match[2])))
    return Stated(
        values={a: frozenset(v) for a, v in values.items()},
        said={a: " / ".join(s) for a, s in said.items()},
        years=frozenset(years),
        measures=measures(text),
    )


def _longest_phrase(
    vocabulary: AttributeVocabulary, tokens: list[str], i: int
) -> tuple[int, tuple[Statement, ...]]:
    for length in range(min(vocabulary.longest, len(tokens) - i), 0, -1):
        statements = vocabulary.phrases.get(tuple(tokens[i : i + length]))
        if statements:
            return length, statements
    return 1, _misspelt(vocabulary, tokens[i])


def _misspelt(vocabulary: AttributeVocabulary, word: str) -> tuple[Statement, ...]:
    """What a word no value is spelt as states, read as the ways customers write values."""
    if not word.isalpha():
        return ()
    # An inflected form ("drivers side", "passengers"): the value its stem names.
    statements = vocabulary.phrases.get((stem(word),))
    if statements:
        return statements
    # An English word is spelt right: "carry" is no typo of "camry".
    if word in english_words():
        return ()
    # Written without its vowels ("frnt", "btm"), as a value's abbreviation, unless the words
    # it may abbreviate name two values of one attribute.
    statements = vocabulary.abbreviations.get(word, ())
    if statements and len({attribute for attribute, _ in statements}) == len(statements):
        return statements
    if len(word) < 5:
        return ()
    # A letter typed twice ("pollo", "golff"): the value once one copy goes, however short
    # the value is (a one-edit typo of a four-letter word would read "notes" as a Note).
    for i in range(1, len(word)):
        if word[i] == word[i - 1]:
            statements = vocabulary.phrases.get((word[:i] + word[i + 1 :],))
            if statements:
                return statements
    # One edit (two for long words), same first letter: "corola", "quashqai", "volkswagon";
    # the first letter keeps "light" from reading as "right".
    allowed = 1 if len(word) < 8 else 2
    for target, statements in vocabulary.typo_targets.items():
        if target[0] == word[0] and OSA.distance(word, target, score_cutoff=allowed) <= allowed:
            return statements
    return ()


def _year(vocabulary: AttributeVocabulary, tokens: list[str], i: int) -> int | None:
    token = tokens[i]
    if not token.isdigit():
        return None
    if len(token) == 4 and _FIRST_YEAR <= int(token) <= _LAST_YEAR:
        return int(token)
    # "14 focus", "a 15 qashqai": a two-digit number right before a vehicle is its year.
    following = tokens[i + 1] if i + 1 < len(tokens) else ""
    if len(token) == 2 and following in vocabulary.vehicle_words:
        return _century(int(token))
    return None


def _century(two_digits: int) -> int:
    return 2000 + two_digits if two_digits < 40 else 1900 + two_digits
