"""English words, for telling a word spelt right from a misspelt one: "carry" is a word of its
own, not a typo of "camry".

They are the whole alphabetic words of the base model's WordPiece vocabulary, about 21,000 of
the most frequent: the one word list the service already ships with. Without the base model's
files the list is empty, and every word may be read as a typo.
"""

from __future__ import annotations

import functools
from pathlib import Path

from matcher.config import default_model_path

VOCABULARY_FILE = "vocab.txt"


@functools.cache
def english_words() -> frozenset[str]:
    path = Path(default_model_path()) / VOCABULARY_FILE
    if not path.is_file():
        return frozenset()
    with path.open(encoding="utf-8") as handle:
        words = (line.strip() for line in handle)
        return frozenset(w for w in words if w.isascii() and w.isalpha())
