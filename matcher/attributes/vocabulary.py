"""What the catalog's attributes can say, learned from the catalog itself.

An attribute is compared with what customers state when many parts share its values (make,
model, side, position, fits, brand): a value held by one part (a part number, a price) tells
nothing that the part's own text does not. A value of the form "2012-2015" is a year range;
sizes are read from the part's name and its `size` attribute (matcher/attributes/measures).

Customers rarely type a value whole. Each value is also found by
- the words it has beyond the other attributes of the same parts: "Volkswagen Golf Mk7
  (2013-2020)" under `fits` is stated by "mk7" once make and model are set aside;
- side and position synonyms (matcher/attributes/synonyms);
- words of the labelled history that, across several parts, always come with one value
  ("vw" with Volkswagen, "320d" with the BMW 3 Series): `learn_aliases`;
- a one-letter typo of a long word ("corola", "quashqai").
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from matcher.attributes.measures import measures
from matcher.attributes.synonyms import VALUE_SYNONYMS, side_synonyms
from matcher.catalog import Part
from matcher.examples import Example
from matcher.query import fold, words

# Attributes that describe the catalog's own bookkeeping, never what a customer asks for.
IGNORED_ATTRIBUTES = frozenset({"category", "availability", "price", "weight_kg", "size"})
SIZE_ATTRIBUTE = "size"
_YEAR_RANGE = re.compile(r"^\s*((?:19|20)\d\d)\s*[-–]\s*((?:19|20)\d\d)\s*$")
_NUMERIC = re.compile(r"^[\d.,\s]+$")
# A learned alias must come with one value in this share of its texts, across this many parts
# and this share of the parts with that value: a word that names a kind of part ("abs",
# "drum") comes with few of a vehicle's parts, a word that names the vehicle with many.
ALIAS_MIN_TEXTS = 4
ALIAS_MIN_PARTS = 3
ALIAS_MIN_SHARE = 0.95
ALIAS_MIN_SPREAD = 0.25

_VOWELS = frozenset("aeiou")
# Shorter words are not abbreviated ("rear" would be "rr", "left" "lft"): their abbreviations
# are too short to tell apart from other short tokens.
MIN_ABBREVIATED_CHARS = 5

# An attribute is compared when it has at most this many values, or this share of its holders.
MAX_OWN_VALUES = 3
SHARED_VALUES = 0.5

Phrase = tuple[str, ...]
Statement = tuple[str, str]  # (attribute, the catalog's value)


@dataclass(frozen=True)
class PartAttributes:
    """One part's comparable attributes."""

    values: Mapping[str, str]
    years: tuple[int, int] | None
    years_attribute: str
    measures: Mapping[str, str]
    # The words of the part's name, in order.
    name: tuple[str, ...] = ()

    @cached_property
    def folded(self) -> Mapping[str, str]:
        """`values` folded, once per part: every request compares them with what it stated."""
        return {attribute: fold(value) for attribute, value in self.values.items()}

    @cached_property
    def kind(self) -> tuple[str, ...]:
        """The name without its values and numbers: what the part is ("tail light" for "Tail
        Light, Left - Toyota Corolla E170 (2014-2019)")."""
        own = {w for value in self.values.values() for w in words(value)}
        return tuple(w for w in self.name if w not in own and not w.isdigit())

    @cached_property
    def named(self) -> frozenset[str]:
        """The attributes whose value the name spells out (side, position, the vehicle)."""
        name = set(self.name)
        return frozenset(a for a, value in self.values.items() if set(words(value)) <= name)


@dataclass(frozen=True)
class AttributeVocabulary:
    phrases: Mapping[Phrase, tuple[Statement, ...]]
    # Long single words of catalog values, for typo-tolerant matching.
    typo_targets: Mapping[str, tuple[Statement, ...]]
    # First words of catalog values other than sides and positions ("golf", "mk7", "toyota"):
    # a two-digit number before one is a model year ("14 focus"), before "front" it is not.
    vehicle_words: frozenset[str]
    longest: int
    parts: Mapping[str, PartAttributes]
    # The attributes compared, decided when the vocabulary is built from the whole catalog and
    # kept by every change (as the code attributes are: matcher/catalog_view/view.py).
    comparable: frozenset[str] = frozenset()
    driver_side: str | None = None
    # Single words of values and synonyms without their vowels ("frnt", "btm", "psngr"), and
    # what the words so abbreviated state.
    abbreviations: Mapping[str, tuple[Statement, ...]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        parts: Sequence[Part],
        learned: Mapping[str, tuple[Statement, ...]] | None = None,
        driver_side: str | None = None,
    ) -> AttributeVocabulary:
        comparable = comparable_attributes(parts)
        empty = cls({}, {}, frozenset(), 1, {}, comparable, driver_side)
        grown = empty.changed(parts, ())
        phrases = {p: set(s) for p, s in grown.phrases.items()}
        for word, statements in (learned or {}).items():
            if (word,) not in phrases:
                for statement in statements:
                    if statement[0] in comparable:
                        phrases.setdefault((word,), set()).add(statement)
        merged = {p: tuple(sorted(s)) for p, s in phrases.items()}
        return replace(
            grown,
            phrases=merged,
            longest=max((len(p) for p in phrases), default=1),
            abbreviations=_abbreviations(merged),
        )

    def changed(self, upserted: Sequence[Part], removed: Iterable[str]) -> AttributeVocabulary:
        """The vocabulary after parts changed or were retired. Values only ever join it: a
        value no live part holds any more is still recognised in a request, and so still
        compared (it agrees with no candidate), until the next build from the whole catalog."""
        of_part = {**self.parts, **{p.sku: part_attributes(p, self.comparable) for p in upserted}}
        for sku in removed:
            of_part.pop(sku, None)
        phrases: dict[Phrase, set[Statement]] = {}
        own: set[Phrase] = set()
        typo_prone: set[Phrase] = set()
        vehicle_words: set[str] = set()
        sides = side_synonyms(self.driver_side)
        for part in upserted:
            attrs = of_part[part.sku]
            for attribute, value in attrs.values.items():
                statement = (attribute, value)
                canonical = fold(value)
                for phrase in _value_phrases(value, attrs.values):
                    phrases.setdefault(phrase, set()).add(statement)
                    own.add(phrase)
                    if canonical not in VALUE_SYNONYMS and not phrase[0].isdigit():
                        vehicle_words.add(phrase[0])
                for synonym in (*VALUE_SYNONYMS.get(canonical, ()), *sides.get(canonical, ())):
                    phrases.setdefault(tuple(synonym.split()), set()).add(statement)
                    typo_prone.add(tuple(synonym.split()))
        merged = dict(self.phrases)
        for phrase, statements in phrases.items():
            if not statements <= set(merged.get(phrase, ())):
                merged[phrase] = tuple(sorted(statements.union(merged.get(phrase, ()))))
        typo_targets = dict(self.typo_targets)
        typo_targets.update(
            {
                phrase[0]: merged[phrase]
                for phrase in own | typo_prone
                if len(phrase) == 1 and len(phrase[0]) >= 5 and phrase[0].isalpha()
            }
        )
        return replace(
            self,
            phrases=merged,
            typo_targets=typo_targets,
            abbreviations=_abbreviations({p: merged[p] for p in phrases}, self.abbreviations),
            vehicle_words=self.vehicle_words | vehicle_words,
            longest=max(self.longest, *(len(p) for p in phrases), 1),
            parts=of_part,
        )


def abbreviation(word: str) -> str:
    """The word as written without its vowels: its first letter, then its consonants, a
    letter typed twice once ("front" -> "frnt", "bottom" -> "btm", "upper" -> "upr")."""
    kept = [word[0], *(c for c in word[1:] if c not in _VOWELS)]
    return "".join(c for i, c in enumerate(kept) if i == 0 or c != kept[i - 1])


def _abbreviations(
    new: Mapping[Phrase, tuple[Statement, ...]],
    known: Mapping[str, tuple[Statement, ...]] | None = None,
) -> dict[str, tuple[Statement, ...]]:
    """`known` with the abbreviations of the single words in `new`, each standing for every
    statement of the words it abbreviates: the reader takes one only where those name one value
    of each attribute ("shrn" from both "Sharan" and "Shoren" names neither)."""
    by = dict(known or {})
    for (word, *rest), statements in new.items():
        if rest or not word.isalpha() or len(word) < MIN_ABBREVIATED_CHARS:
            continue
        short = abbreviation(word)
        if short != word:
            by[short] = tuple(sorted({*by.get(short, ()), *statements}))
    return by


def comparable_attributes(parts: Iterable[Part]) -> frozenset[str]:
    """Year ranges, and attributes whose values several parts share and that customers can
    state in words; an attribute whose values are mostly one part's own (a part number, a
    model number) tells nothing that the part's text and codes do not."""
    values: dict[str, Counter[str]] = defaultdict(Counter)
    for part in parts:
        for name, value in part.attributes.items():
            if name not in IGNORED_ATTRIBUTES and value and not _NUMERIC.match(str(value)):
                values[name][fold(str(value))] += 1
    return frozenset(
        name
        for name, counts in values.items()
        if all(is_year_range(v) for v in counts)
        or 2 <= len(counts) <= max(MAX_OWN_VALUES, SHARED_VALUES * sum(counts.values()))
    )


def is_year_range(value: str) -> bool:
    """A value of the form "2012-2015": the model years a part fits."""
    return _YEAR_RANGE.match(value) is not None


def part_attributes(part: Part, comparable: frozenset[str]) -> PartAttributes:
    values: dict[str, str] = {}
    years, years_attribute = None, ""
    for name in sorted(comparable):
        value = part.attributes.get(name)
        if not value:
            continue
        span = _YEAR_RANGE.match(str(value))
        if span:
            years, years_attribute = (int(span[1]), int(span[2])), name
        else:
            values[name] = str(value)
    sized = measures(" ".join((part.name, str(part.attributes.get(SIZE_ATTRIBUTE, "")))))
    return PartAttributes(values, years, years_attribute, sized, tuple(words(part.name)))


def learn_aliases(
    history: Iterable[Example], parts: Sequence[Part]
) -> dict[str, tuple[Statement, ...]]:
    """Words of labelled texts that always come with one value of an attribute, across
    several parts: customers' own names for the catalog's values ("vw", "320d", "pickup")."""
    comparable = comparable_attributes(parts)
    of_part = {p.sku: part_attributes(p, comparable).values for p in parts}
    holders = Counter((a, v) for values in of_part.values() for a, v in values.items())
    texts: Counter[str] = Counter()
    with_value: dict[str, Counter[Statement]] = defaultdict(Counter)
    with_attribute: dict[str, Counter[str]] = defaultdict(Counter)
    skus: dict[Statement, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for example in history:
        values = of_part.get(example.sku or "")
        if values is None:
            continue
        for word in set(words(example.text)):
            if word.isdigit() or len(word) < 2:
                continue
            texts[word] += 1
            for attribute, value in values.items():
                with_attribute[word][attribute] += 1
                with_value[word][(attribute, value)] += 1
                skus[(attribute, value)][word].add(example.sku or "")
    learned: dict[str, list[Statement]] = defaultdict(list)
    for word, n in texts.items():
        if n < ALIAS_MIN_TEXTS:
            continue
        for (attribute, value), count in with_value[word].items():
            if (
                count >= ALIAS_MIN_SHARE * n
                and count >= ALIAS_MIN_SHARE * with_attribute[word][attribute]
                and len(skus[(attribute, value)][word])
                >= max(ALIAS_MIN_PARTS, ALIAS_MIN_SPREAD * holders[(attribute, value)])
            ):
                learned[word].append((attribute, value))
    return {word: tuple(sorted(s)) for word, s in learned.items()}


def _value_phrases(value: str, siblings: Mapping[str, str]) -> set[Phrase]:
    own = words(value)
    if not own:
        return set()  # punctuation alone ("-", "?"): nothing a customer could type
    found = {tuple(own)}
    if len(own) > 1 and any(w.isdigit() for w in own):
        found.add(("".join(own),))  # "F-150" typed "f150", "3 Series" typed "3series"
    others = {w for v in siblings.values() if v != value for w in words(v)}
    rest = [w for w in own if w not in others and not _is_year(w)]
    if rest and len(rest) < len(own):
        found.add(tuple(rest))  # "Golf Mk7 (2013-2020)" -> "mk7" beside make and model
    return found


def _is_year(word: str) -> bool:
    return len(word) == 4 and word.isdigit() and 1950 <= int(word) <= 2039
