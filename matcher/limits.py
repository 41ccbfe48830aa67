"""The limits on everything a caller sends, in one place, and the checks that enforce them.

Built from Settings (every number is a PARTMATCH_MAX_* variable), handed to the engine, the
catalog checks and the stores, so that no layer keeps a limit of its own that could disagree
with the edge's: a text the edge accepts is one every layer below accepts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matcher.config import Settings


@dataclass(frozen=True)
class Limits:
    """The numbers are Settings' (PARTMATCH_MAX_*); their defaults are written there only."""

    max_text_chars: int
    max_vehicle_chars: int
    max_top_k: int
    max_batch: int
    max_sku_chars: int
    max_name_chars: int
    max_description_chars: int
    max_aliases: int
    max_alias_chars: int
    max_attributes: int
    max_attribute_key_chars: int
    max_attribute_value_chars: int
    max_parts_per_call: int
    max_message_bytes: int
    # What top_k 0 means.
    default_top_k: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(**{name: getattr(settings, name) for name in _FROM_SETTINGS})


# The fields that are settings (PARTMATCH_MAX_*); default_top_k is the API's own.
_FROM_SETTINGS = frozenset(f.name for f in fields(Limits)) - {"default_top_k"}


def _defaults() -> Limits:
    from matcher.config import Settings

    defaults: dict[str, int] = {
        f.name: int(f.default)  # type: ignore[arg-type]  # every PARTMATCH_MAX_* is an int
        for f in fields(Settings)
        if f.name in _FROM_SETTINGS
    }
    return Limits(**defaults)


DEFAULT_LIMITS = _defaults()

# Control characters, format characters (zero-width spaces and joiners, bidirectional
# overrides), surrogates, private-use and unassigned code points, and separators other than
# the plain space: a SKU made of them can look identical to another one.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def bad_sku_character(sku: str) -> str | None:
    """The first character a SKU may not hold, if any: only visible characters and plain
    spaces inside."""
    for char in sku:
        category = unicodedata.category(char)
        if category in _INVISIBLE or (category == "Zs" and char != " "):
            return char
    return None


def bad_text_character(text: str, allow_newlines: bool = False) -> str | None:
    """The first control or bidirectional-override character of a text field, if any; with
    `allow_newlines`, line breaks and tabs (a pasted message, a description) are fine."""
    for char in text:
        if allow_newlines and char in "\n\r\t":
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or char in _BIDI_CONTROLS:
            return char
    return None


# Characters that reorder how the text around them is shown.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def describe(char: str) -> str:
    return f"U+{ord(char):04X} ({unicodedata.name(char, 'unnamed')})"
