"""Every word the catalog's parts own (their catalog text and labelled texts), filed so that
the words one edit from a request's word (matcher/coverage) are found without comparing it
with each of them.

A word is filed under itself and under each string that deleting one of its characters
leaves. Two words one edit apart (a character substituted, inserted, deleted, or swapped with
its neighbour) share one of those keys, so only the words under a request word's own keys are
compared with it.

A catalog change does not rebuild the index: the words it brings sit beside it, each compared
with the request's words, until the view builder builds the view whole. Words of retired parts
stay filed; a word no candidate owns explains nothing, so they change no answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from rapidfuzz import process
from rapidfuzz.distance import OSA

from matcher.coverage import TYPO_MIN_CHARS


def _keys(word: str) -> set[str]:
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


@dataclass(frozen=True)
class TypoIndex:
    # Key -> the words filed under it.
    keys: Mapping[str, tuple[str, ...]]
    # Words added since the index was built.
    recent: frozenset[str] = frozenset()

    @classmethod
    def build(cls, words: Iterable[str]) -> TypoIndex:
        filed: defaultdict[str, list[str]] = defaultdict(list)
        for word in set(words):
            # A shorter word is more than one edit from any word long enough for a typo.
            if len(word) >= TYPO_MIN_CHARS - 1:
                for key in _keys(word):
                    filed[key].append(word)
        return cls({key: tuple(found) for key, found in filed.items()})

    def with_words(self, words: Iterable[str]) -> TypoIndex:
        """The index with `words` too (the own words of parts just upserted)."""
        new = {
            w
            for w in words
            if len(w) >= TYPO_MIN_CHARS - 1
            and w not in self.keys.get(w, ())
            and w not in self.recent
        }
        return replace(self, recent=self.recent | new) if new else self

    def near(self, term: str) -> frozenset[str]:
        """The term and, when it is long enough for a typo, every filed word one edit from it
        (optimal string alignment: a swap of neighbours is one edit)."""
        if len(term) < TYPO_MIN_CHARS:
            return frozenset([term])
        found = {term}
        for key in _keys(term):
            for word in self.keys.get(key, ()):
                if word not in found and OSA.distance(term, word, score_cutoff=1) <= 1:
                    found.add(word)
        if self.recent:
            found.update(
                w
                for w, _, _ in process.extract(
                    term, self.recent, scorer=OSA.distance, score_cutoff=1, limit=None
                )
            )
        return frozenset(found)
