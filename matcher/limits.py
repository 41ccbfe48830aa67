"""The limits on everything a caller sends, in one place, and the checks that enforce them.

Built from Settings (every number is a PARTMATCH_MAX_* variable), handed to the engine, the
catalog checks and the stores, so that no layer keeps a limit of its own that could disagree
with the edge's: a text the edge accepts is one every layer below accepts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Limits:
    """Each number but default_top_k is a setting (PARTMATCH_MAX_*); the defaults are written
    here only, and Settings takes them from here."""

    max_text_chars: int = 1000
    max_vehicle_chars: int = 200
    max_top_k: int = 50
    max_batch: int = 256
    max_sku_chars: int = 128
    max_name_chars: int = 500
    max_description_chars: int = 10_000
    max_aliases: int = 50
    max_alias_chars: int = 200
    max_attributes: int = 50
    max_attribute_key_chars: int = 64
    max_attribute_value_chars: int = 500
    max_parts_per_call: int = 1000
    max_message_bytes: int = 4 * 1024 * 1024
    # What top_k 0 means.
    default_top_k: int = 5


# The fields that are settings (PARTMATCH_MAX_*); default_top_k is the API's own.
LIMIT_SETTINGS = frozenset(f.name for f in fields(Limits)) - {"default_top_k"}
DEFAULT_LIMITS = Limits()

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


def shortened(value: str, most: int = 40) -> str:
    """A caller's value as a refusal may quote it: refusals go back in gRPC trailers, which
    clients cap at 8-16 KiB, so a huge value would cost the caller the refusal itself."""
    return value if len(value) <= most else value[:most] + "..."
