"""One immutable view of the live catalog, and the builder that turns changes into new views.

A view holds the active parts, the live labelled history (texts of active parts and texts
that name no part) and every in-process search structure over them. What a part's change does
not touch — another part's analysed text, names, codes and vector — is carried over from the
previous view, not recomputed. The large structures (BM25, trigram and vector indexes) are not
rebuilt either: the changed parts sit in a small recent segment beside each, and the old
entries are masked (see each index's module), so that a change costs milliseconds whatever the
catalog's size. Once more than COMPACT_AT parts have changed, the view is due to be built whole
again from its carried-over pieces (`compact`), which takes as long as a start-up's indexing
(30 s at 100,000 parts): matcher/catalog_view/live.py does that on a thread of its own and
brings the result up to date with the changes made meanwhile (`caught_up`). A change that
cannot be patched — a retired part with history comes back — or one that brings more than
COMPACT_AT parts at once (a bulk import) builds the view whole at once.

Two things a change does not redo until then: the words common to many parts' labelled texts
(coverage's filler words) and the customers' aliases learned from history. Both are read from
the history, which a catalog change does not alter.

Which attributes hold the parts' own numbers (matcher/catalog_view/code_attributes.py) is
decided when a view is built from the whole catalog, and kept by every upsert and retirement:
each part's codes, carried over or new, then come from one set of attributes, and one upsert
cannot change how every other part is found. The next build (a server start or a model
switch, which load the whole catalog) decides anew.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from matcher.analysis import terms
from matcher.attributes import AttributeVocabulary, learn_aliases
from matcher.attributes.vocabulary import Statement
from matcher.catalog import Part
from matcher.catalog_view.code_attributes import code_attributes
from matcher.catalog_view.code_index import CodeIndex, part_codes
from matcher.catalog_view.layered import Layered
from matcher.catalog_view.lexical_index import LexicalIndex
from matcher.catalog_view.name_index import NameIndex, processed_names
from matcher.catalog_view.typo_index import TypoIndex
from matcher.catalog_view.vector_index import VectorIndex, stacked
from matcher.coverage import common_terms, own_terms
from matcher.encoder import Encoder
from matcher.examples import Example

# Parts changed since the view was built whole before it is due to be built whole again: each
# search scores the recent segment's parts one by one.
COMPACT_AT = 256


@dataclass(frozen=True)
class _Analysed:
    """What every search structure needs of one part, computed once per version of it."""

    part: Part
    terms: list[str]
    names: tuple[str, ...]
    codes: Mapping[str, float]


@dataclass(frozen=True)
class CatalogView:
    # Active parts by SKU, in the order they were first loaded or added.
    analysed: Mapping[str, _Analysed]
    # All stored history, including texts of retired parts (a part may come back).
    stored_history: tuple[Example, ...]
    stored_history_terms: tuple[list[str], ...]
    stored_history_vectors: np.ndarray | None
    # Positions in stored_history of each part's labelled texts.
    stored_history_of: Mapping[str, tuple[int, ...]]
    part_vectors: Mapping[str, np.ndarray]
    names: NameIndex
    codes: CodeIndex
    # The attributes whose values are codes of their part, decided at build (see above).
    code_attributes: frozenset[str]
    lexical: LexicalIndex | None
    vectors: VectorIndex | None
    # What customers can state about the active parts, and each part's comparable values.
    attributes: AttributeVocabulary
    # Customers' own words for attribute values, learned once from the stored history.
    learned_aliases: Mapping[str, tuple[Statement, ...]]
    # Each active part's own words (catalog text and labelled texts), and the words so common
    # in labelled texts of many parts that they say nothing about which (matcher/coverage).
    own_terms: Mapping[str, frozenset[str]]
    common_terms: frozenset[str]
    # Those words filed for finding the ones a typo away from a request's words.
    typos: TypoIndex

    # Active parts by SKU, in the same order as `analysed`.
    parts: Mapping[str, Part]
    # Labelled texts of active parts and texts that name no part.
    history: Sequence[Example]
    # How many of those texts name each active part (absent: none).
    history_counts: Mapping[str, int]
    # One token per whole build, which the views patched from it share: a compaction of one
    # of them is out of date once the live view comes from another build.
    built: object = field(default_factory=object, compare=False)

    def part(self, sku: str) -> Part | None:
        return self.parts.get(sku)


class CatalogViewBuilder:
    """Builds views from a catalog and applies changes to them.

    `encoder`: encodes catalog and history texts for the embedding signals (None: no vectors).
    `lexical_history`: whether the embedded BM25 index also holds history texts; None builds
    no embedded BM25 index at all (the lexical signal runs remotely).
    `driver_side`: where the driver sits in the store's market ("left", "right"; None: driver
    and passenger side are read only as the history uses them).
    `code_attributes`: attributes declared to hold the parts' own numbers, beyond those
    detected from the catalog.
    """

    def __init__(
        self,
        encoder: Encoder | None = None,
        lexical_history: bool | None = True,
        driver_side: str | None = None,
        code_attributes: Iterable[str] = (),
    ) -> None:
        self.encoder = encoder
        self.lexical_history = lexical_history
        self.driver_side = driver_side
        self.declared_code_attributes = tuple(code_attributes)

    def build(self, parts: Sequence[Part], examples: Sequence[Example]) -> CatalogView:
        catalog = [p for p in parts if p.active]
        coded = code_attributes(catalog, self.declared_code_attributes)
        analysed = {p.sku: _analyse(p, coded) for p in catalog}
        history = tuple(examples)
        part_vectors: dict[str, np.ndarray] = {}
        history_vectors = None
        if self.encoder is not None:
            active = list(analysed.values())
            vectors = self.encoder.encode([a.part.catalog_text() for a in active])
            part_vectors = {a.part.sku: v for a, v in zip(active, vectors, strict=True)}
            history_vectors = self.encoder.encode([e.text for e in history])
        # Analysed once: the embedded BM25 index and each part's own words both read them.
        return self._assemble(
            analysed,
            history,
            tuple(terms(e.text) for e in history),
            history_vectors,
            part_vectors,
            learn_aliases(history, [a.part for a in analysed.values()]),
            coded,
        )

    def upsert(self, view: CatalogView, parts: Sequence[Part]) -> CatalogView:
        # The last word on each SKU counts: an active version is upserted, an inactive one
        # retires the part.
        final = {p.sku: p for p in parts}
        changed = [p for p in final.values() if p.active]
        retired = [s for s, p in final.items() if not p.active and s in view.analysed]
        fresh = {p.sku: _analyse(p, view.code_attributes) for p in changed}
        vectors: dict[str, np.ndarray] = {}
        if self.encoder is not None and changed:
            encoded = self.encoder.encode([p.catalog_text() for p in changed])
            vectors = {p.sku: v for p, v in zip(changed, encoded, strict=True)}
        analysed = Layered.of(view.analysed).changed(fresh, retired)
        part_vectors = Layered.of(view.part_vectors).changed(vectors, retired)
        revived = any(
            p.sku not in view.analysed and p.sku in view.stored_history_of for p in changed
        )
        if revived or len(changed) > COMPACT_AT:
            return self._with(view, analysed, part_vectors)
        return self._patched(view, analysed, part_vectors, list(fresh), retired)

    def retire(self, view: CatalogView, skus: Iterable[str]) -> CatalogView:
        gone = [s for s in dict.fromkeys(skus) if s in view.analysed]
        analysed = Layered.of(view.analysed).changed({}, gone)
        part_vectors = Layered.of(view.part_vectors).changed({}, gone)
        return self._patched(view, analysed, part_vectors, [], gone)

    def due(self, view: CatalogView) -> bool:
        """Whether so many parts changed since `view`'s build that it should be built whole."""
        return len(view.names.recent) > COMPACT_AT

    def compact(self, view: CatalogView) -> CatalogView:
        """`view` built whole: the same parts and history, nothing in a recent segment."""
        return self._with(view, view.analysed, view.part_vectors)

    def caught_up(
        self, compacted: CatalogView, live: CatalogView, changed: Iterable[str]
    ) -> CatalogView:
        """`compacted` (a view built whole from an earlier snapshot of `live`'s build) with
        the parts `changed` since that snapshot as `live` has them: upserted, or retired."""
        touched = list(dict.fromkeys(changed))
        upserted = [s for s in touched if s in live.analysed]
        retired = [s for s in touched if s not in live.analysed and s in compacted.analysed]
        analysed = Layered.of(compacted.analysed).changed(
            {s: live.analysed[s] for s in upserted}, retired
        )
        part_vectors = Layered.of(compacted.part_vectors).changed(
            {s: live.part_vectors[s] for s in upserted if s in live.part_vectors}, retired
        )
        return self._patched(compacted, analysed, part_vectors, upserted, retired)

    def _patched(
        self,
        view: CatalogView,
        analysed: Mapping[str, _Analysed],
        part_vectors: Mapping[str, np.ndarray],
        changed: list[str],
        retired: list[str],
    ) -> CatalogView:
        """The view after `changed` parts were upserted and `retired` ones retired, every
        large structure patched rather than rebuilt."""
        upserted = {s: analysed[s] for s in changed}
        old = {s: view.analysed[s] for s in [*changed, *retired] if s in view.analysed}
        own = Layered.of(view.own_terms).changed(
            own_terms(
                {s: a.terms for s, a in upserted.items()},
                (
                    (s, view.stored_history_terms[i])
                    for s in upserted
                    for i in view.stored_history_of.get(s, ())
                ),
            ),
            retired,
        )
        history, history_counts = view.history, view.history_counts
        if any(s in history_counts for s in retired):
            history = [e for e in history if e.sku not in retired]
            history_counts = {s: n for s, n in history_counts.items() if s not in retired}
        parts = Layered.of(view.parts).changed({s: a.part for s, a in upserted.items()}, retired)
        return replace(
            view,
            analysed=analysed,
            part_vectors=part_vectors,
            names=view.names.changed({s: a.names for s, a in upserted.items()}, retired),
            codes=view.codes.changed(
                {s: a.codes for s, a in upserted.items()}, {s: a.codes for s, a in old.items()}
            ),
            lexical=None
            if view.lexical is None
            else view.lexical.changed({s: a.terms for s, a in upserted.items()}, retired),
            vectors=None
            if view.vectors is None
            else view.vectors.changed({s: part_vectors[s] for s in upserted}, retired),
            attributes=view.attributes.changed([a.part for a in upserted.values()], retired),
            own_terms=own,
            typos=view.typos.with_words(w for s in upserted for w in own[s]),
            parts=parts,
            history=history,
            history_counts=history_counts,
        )

    def _with(
        self,
        view: CatalogView,
        analysed: Mapping[str, _Analysed],
        part_vectors: Mapping[str, np.ndarray],
    ) -> CatalogView:
        """The view built whole; its mappings flattened back into plain dicts."""
        return self._assemble(
            dict(analysed),
            view.stored_history,
            view.stored_history_terms,
            view.stored_history_vectors,
            dict(part_vectors),
            view.learned_aliases,
            view.code_attributes,
        )

    def _assemble(
        self,
        analysed: dict[str, _Analysed],
        history: tuple[Example, ...],
        history_terms: tuple[list[str], ...],
        history_vectors: np.ndarray | None,
        part_vectors: dict[str, np.ndarray],
        learned_aliases: Mapping[str, tuple[Statement, ...]],
        coded: frozenset[str],
    ) -> CatalogView:
        # History of a retired part stays stored (it may come back) but is not searched.
        live = [i for i, e in enumerate(history) if e.sku is None or e.sku in analysed]
        lexical = None
        if self.lexical_history is not None:
            history_docs = (
                [(sku, history_terms[i]) for i in live if (sku := history[i].sku) is not None]
                if self.lexical_history
                else []
            )
            lexical = LexicalIndex.build([(s, a.terms) for s, a in analysed.items()], history_docs)
        own = own_terms(
            {s: a.terms for s, a in analysed.items()},
            ((history[i].sku, history_terms[i]) for i in live),
        )
        vectors = None
        if history_vectors is not None:
            skus = list(analysed)
            dimension = history_vectors.shape[1]
            vectors = VectorIndex.build(
                catalog=stacked([part_vectors[s] for s in skus], dimension),
                catalog_skus=skus,
                history=history_vectors[live] if live else np.zeros((0, dimension), np.float32),
                history_skus=[history[i].sku for i in live],
            )
        return CatalogView(
            analysed=analysed,
            stored_history=history,
            stored_history_terms=history_terms,
            stored_history_vectors=history_vectors,
            stored_history_of=_positions(e.sku for e in history),
            part_vectors=part_vectors,
            names=NameIndex.build((s, a.names) for s, a in analysed.items()),
            codes=CodeIndex.build((s, a.codes) for s, a in analysed.items()),
            code_attributes=coded,
            lexical=lexical,
            vectors=vectors,
            attributes=AttributeVocabulary.build(
                [a.part for a in analysed.values()], learned_aliases, self.driver_side
            ),
            learned_aliases=learned_aliases,
            own_terms=own,
            typos=TypoIndex.build(w for words in own.values() for w in words),
            common_terms=common_terms((history[i].sku, history_terms[i]) for i in live),
            parts={s: a.part for s, a in analysed.items()},
            history=[history[i] for i in live],
            history_counts=Counter(sku for i in live if (sku := history[i].sku) is not None),
        )


def _positions(skus: Iterable[str | None]) -> dict[str, tuple[int, ...]]:
    positions: dict[str, list[int]] = {}
    for i, sku in enumerate(skus):
        if sku is not None:
            positions.setdefault(sku, []).append(i)
    return {sku: tuple(p) for sku, p in positions.items()}


def _analyse(part: Part, coded: frozenset[str]) -> _Analysed:
    return _Analysed(
        part=part,
        terms=terms(part.catalog_text()),
        names=processed_names(part),
        codes=part_codes(part, coded),
    )
