"""Attributes a customer states (vehicle, years, side, position, size) and how each candidate
compares with them."""

from matcher.attributes.comparison import compare, mark_features
from matcher.attributes.marks import Mark
from matcher.attributes.statement import Stated, stated
from matcher.attributes.vocabulary import AttributeVocabulary, PartAttributes, learn_aliases

__all__ = [
    "AttributeVocabulary",
    "Mark",
    "PartAttributes",
    "Stated",
    "compare",
    "learn_aliases",
    "mark_features",
    "stated",
]
