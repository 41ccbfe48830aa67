"""Turning text into terms for lexical matching: folding, tokens, a light English stemmer."""

from __future__ import annotations

from matcher.query import words

# Words that say nothing about which part is meant, including the politeness around requests.
_STOPWORDS_TEXT = """
a an and are as at be but by do does for from have i if in into is it its me my need of on
or our please so some that the their them then there these they this to was we what where
which will with you your hi hello thanks looking
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def stem(word: str) -> str:
    """Plural and simple suffix folding: pads->pad, batteries->battery, wipers->wiper."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    return [stem(w) for w in words(text) if w not in STOPWORDS]
