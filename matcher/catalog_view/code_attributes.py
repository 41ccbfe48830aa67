"""Which attributes hold the parts' own part and model numbers: by name, by configuration, and
by what their values look like across the catalog.

A catalog names its numbers as it likes (`modelno`, `oem_ref`, `mfr_part`), so beyond the usual
names (NAMED_CODE_ATTRIBUTES) and those the store declares (PARTMATCH_CODE_ATTRIBUTES), an
attribute holds codes when, across the catalog:

- at least MIN_HOLDERS parts have it: fewer is too little to judge by (declare it instead);
- at least CODE_SHARE of its values are each one code, whole: the value, normalised, is a code
  that a customer's text would yield (matcher.query: letters and digits, or a long digit run,
  in at most MAX_CODE_PIECES pieces), and not what the attribute vocabulary reads as something
  else (a year range "2012-2015", a size "205/55 R16" or "5W-30"), nor a quantity ("1299.99"),
  a date or dimensions ("1920x1080");
- its values identify their parts: at least UNIQUE_SHARE as many distinct values as holders.
  Values many parts share (a vehicle model, a resolution) are what the attribute vocabulary
  compares with what the customer stated; they say what kind of part, not which.

The catalog's bookkeeping attributes (the vocabulary's IGNORED_ATTRIBUTES: price, weight,
size, ...) are never codes, whatever their values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from matcher.attributes.measures import measures
from matcher.attributes.vocabulary import IGNORED_ATTRIBUTES, is_year_range
from matcher.catalog import Part
from matcher.query import extract_codes, normalise_code

# Attributes that hold a part's own numbers whatever their values look like.
NAMED_CODE_ATTRIBUTES = ("part_number", "oem_number", "mpn", "model", "model_number")
MIN_HOLDERS = 5
CODE_SHARE = 0.8
UNIQUE_SHARE = 0.8

# Numbers with a decimal or thousands separator: prices and weights, never part numbers.
_QUANTITY = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+[.,]\d+")
_DATE = re.compile(r"(?:19|20)\d\d[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)\d\d")
_DIMENSIONS = re.compile(r"\d+(?:[.,]\d+)?\s*[x×]\s*\d+(?:[.,]\d+)?(?:\s*[x×]\s*\d+(?:[.,]\d+)?)?")


def code_attributes(parts: Sequence[Part], declared: Iterable[str] = ()) -> frozenset[str]:
    """The attributes whose values are the parts' own numbers: the named ones, the declared
    ones, and those `detected` across `parts`."""
    return frozenset({*NAMED_CODE_ATTRIBUTES, *declared, *detected(parts)})


def detected(parts: Sequence[Part]) -> frozenset[str]:
    """The attributes whose values, across `parts`, read as codes that identify their parts."""
    values: dict[str, list[str]] = {}
    for part in parts:
        for name, value in part.attributes.items():
            if value and name not in IGNORED_ATTRIBUTES:
                values.setdefault(name, []).append(value)
    return frozenset(
        name
        for name, held in values.items()
        if len(held) >= MIN_HOLDERS
        and sum(map(is_code, held)) >= CODE_SHARE * len(held)
        and len(set(map(normalise_code, held))) >= UNIQUE_SHARE * len(held)
    )


def is_code(value: str) -> bool:
    """Whether a value, whole, reads as one part or model number."""
    text = value.strip()
    code = normalise_code(text)
    return (
        code in extract_codes(text)
        and not is_year_range(text)
        and not measures(text)
        and not any(p.fullmatch(text) for p in (_QUANTITY, _DATE, _DIMENSIONS))
    )
