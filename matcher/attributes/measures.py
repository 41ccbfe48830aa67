"""Sizes and quantities written the many ways people type them: "5 litres", "5ltr", "5l" and
"5 L" are one volume; "5w30" and "5W-30" one oil grade; 24" and "24 inch" one length.

Each measure is a (family, value) pair; two measures of one family either agree or conflict.
"""

from __future__ import annotations

import re

from matcher.query import fold

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_VOLUME = re.compile(
    _NUMBER + r"\s*(ml|millilit(?:re|er)s?|l|lt|lts|ltr|ltrs|lit(?:re|er)s?|litro)(?![a-z0-9])"
)
_GRADE = re.compile(r"(?<![a-z0-9])(\d{1,2})\s*w\s*-?\s*(\d{2})(?![0-9])")
_INCHES = re.compile(r"(?<![0-9.])(\d{2}(?:\.\d)?)\s*(?:\"|''|”|in(?:ch|ches)?(?![a-z]))")
_MILLIMETRES = re.compile(r"(?<![0-9.])(\d{2,4})\s*mm(?![a-z])")
_THREAD = re.compile(r"(?<![a-z0-9])m\s*(\d{1,2})\s*x\s*(\d(?:[.,]\d{1,2})?)(?![0-9])")
_TYRE = re.compile(r"(?<![0-9])(\d{3})\s*/\s*(\d{2})\s*z?r?\s*(\d{2})(?![0-9])")

# Wiper blades and the like are sold by length in inches or millimetres: within this share of
# each other the two are one size (24" = 610 mm is sold as a 600 mm blade).
_LENGTH_TOLERANCE = 0.03


def measures(text: str) -> dict[str, str]:
    """The measures a text states, by family: volume (ml), grade, length (mm), thread, tyre."""
    folded = fold(text)
    found: dict[str, str] = {}
    for match in _GRADE.finditer(folded):
        found["grade"] = f"{int(match[1])}w{match[2]}"
    # A grade such as 5W-30 is not a volume: remove it before looking for "30 l".
    rest = _GRADE.sub(" ", folded)
    for match in _VOLUME.finditer(rest):
        amount = float(match[1].replace(",", "."))
        unit_ml = 1.0 if match[2].startswith("m") else 1000.0
        found["volume"] = _number(amount * unit_ml)
    for match in _TYRE.finditer(rest):
        found["tyre"] = f"{match[1]}/{match[2]}r{match[3]}"
    for match in _THREAD.finditer(rest):
        found["thread"] = f"m{match[1]}x{_number(float(match[2].replace(',', '.')))}"
    for match in _MILLIMETRES.finditer(rest):
        found["length"] = _number(float(match[1]))
    for match in _INCHES.finditer(rest):
        found["length"] = _number(float(match[1]) * 25.4)
    return found


def same(family: str, a: str, b: str) -> bool:
    if family == "length":
        x, y = float(a), float(b)
        return abs(x - y) <= _LENGTH_TOLERANCE * max(x, y)
    return a == b


def shown(family: str, value: str) -> str:
    """A measure as a reviewer reads it."""
    if family == "volume":
        ml = float(value)
        return f"{_number(ml / 1000)} L" if ml >= 1000 else f"{value} ml"
    if family == "length":
        return f"{value} mm"
    return value.upper() if family in ("grade", "thread") else value


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
