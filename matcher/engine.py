"""The matcher: runs the signals on a query, fuses them and decides.

It owns the one live view of the catalog (matcher/catalog_view): every change produces a new
view, once, and the signals only search it. A request reads one view from start to end, and
a part not in that view is never returned, even if a remote index has not caught up yet.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import NamedTuple

from matcher.attributes import Mark
from matcher.candidate_check import CandidateCheck
from matcher.catalog import Part
from matcher.catalog_view import CatalogView, CatalogViewBuilder, LiveView
from matcher.decision import Decision, DecisionPolicy
from matcher.encoder import Encoder
from matcher.examples import Example
from matcher.fusion import CANDIDATE_CHECK, Fusion, signal_scores
from matcher.limits import DEFAULT_LIMITS, Limits, bad_text_character, describe
from matcher.query import Query
from matcher.ranking import Ranked
from matcher.reranker import RERANK, Reranker, rerank_query, rerank_text, shortlist
from matcher.signals.base import Hit, RemoteIndex, Signal, SignalUnavailable

log = logging.getLogger(__name__)

# Each signal proposes this many candidates; fusion re-ranks their union. Every candidate is
# checked and featured in Python, so the pool sets much of a Match's cost. 15 (35 candidates
# a text, against 67) matched 25% faster on the sample, but cost its dev texts 1.5 points of
# top-1 (chatty and symptom texts) with the one-epoch model.
CANDIDATE_POOL = 30
# Threads that match the texts of one MatchBatch. One thread was tried (2026-12-05, AVX-512
# machine, `make bench-speed` and `bench-speed-scale`): on the sample's 306 parts it matched
# as fast over gRPC, but at 10,000 and 100,000 parts MatchBatch fell from 158 to 116 and from
# 98 to 73 texts/s: there a text's nearest-neighbour and fuzzy searches run long without the
# GIL, and a second thread's Python runs meanwhile.
BATCH_THREADS = 2


class MatchInputError(ValueError):
    """A request the matcher refuses; the message names the field and the problem."""


class BatchItem(NamedTuple):
    """One request of a batch (Matcher.match_batch)."""

    text: str
    top_k: int = 0
    vehicle: str = ""


@dataclass(frozen=True)
class Candidate:
    sku: str
    name: str
    confidence: float
    signals: Mapping[str, float]
    features: Mapping[str, float]
    # How the candidate compares with each attribute the customer stated.
    marks: tuple[Mark, ...] = ()


@dataclass(frozen=True)
class MatchResult:
    text: str
    candidates: list[Candidate]
    decision: Decision
    model_version: str
    request_id: str
    degraded: bool
    review_id: str = ""
    vehicle: str = ""
    # P(the text names no part) from the fusion, when it models that.
    nomatch_probability: float | None = None


class Matcher:
    def __init__(
        self,
        signals: Sequence[Signal],
        fusion: Fusion,
        policy: DecisionPolicy,
        model_version: str,
        views: CatalogViewBuilder,
        limits: Limits | None = None,
        remote_indexes: Sequence[RemoteIndex] = (),
        remote_signals: Iterable[str] = (),
        remote_timeout_s: float = 0.5,
        vector_signals: Iterable[str] = (),
        encoder: Encoder | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.signals = list(signals)
        self.reranker = reranker
        # The signals' encoder, for encoding a batch's queries ahead in one pass.
        self._encoder = encoder
        self.fusion = fusion
        self.policy = policy
        self.model_version = model_version
        self.limits = limits or DEFAULT_LIMITS
        self._live = LiveView(views)
        self._remote_indexes = list(remote_indexes)
        self._write_lock = threading.Lock()
        # Signals behind a network call run on a pool so that a slow backend costs at most
        # remote_timeout_s; in-process signals run inline.
        self._remote = set(remote_signals)
        self._remote_timeout_s = remote_timeout_s
        # Signals that wait for the query's encoder pass: the candidates found before the
        # first of them are checked while the pass runs.
        self._vector_signals = set(vector_signals)
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="signal")
        # One thread encodes batches ahead of their matching: more would only contend for
        # the cores the matching needs.
        self._ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encode-ahead")
        # A batch's texts are matched on two threads: while one holds the GIL, the other's
        # fuzzy scoring and vector products run without it.
        self._batch = ThreadPoolExecutor(max_workers=BATCH_THREADS, thread_name_prefix="batch")
        self.degraded_signals: set[str] = set()

    # -- catalog ---------------------------------------------------------------------------

    def load(self, parts: Sequence[Part], examples: Sequence[Example]) -> None:
        with self._write_lock:
            for index in self._remote_indexes:
                index.load(parts, examples)
            self._live.load(parts, examples)

    def upsert(self, parts: Sequence[Part]) -> None:
        with self._write_lock:
            for index in self._remote_indexes:
                index.upsert(parts)
            self._live.upsert(parts)

    def retire(self, skus: Sequence[str]) -> None:
        with self._write_lock:
            # Hide first: from this line on, Match cannot return these parts.
            self._live.retire(skus)
            for index in self._remote_indexes:
                index.retire(skus)

    @property
    def view(self) -> CatalogView:
        """The live catalog view; read it once per request."""
        return self._live.current

    def part(self, sku: str) -> Part | None:
        return self._live.current.part(sku)

    # -- matching --------------------------------------------------------------------------

    def validate(self, text: str, top_k: int, vehicle: str = "") -> int:
        """The effective top_k for a valid request; raises MatchInputError otherwise."""
        if not text or not text.strip():
            raise MatchInputError("text must not be empty or whitespace only")
        if len(text) > self.limits.max_text_chars:
            raise MatchInputError(
                f"text is {len(text)} characters; the limit is {self.limits.max_text_chars}"
            )
        if len(vehicle) > self.limits.max_vehicle_chars:
            raise MatchInputError(
                f"context.vehicle is {len(vehicle)} characters; "
                f"the limit is {self.limits.max_vehicle_chars}"
            )
        for field, value in (("text", text), ("context.vehicle", vehicle)):
            bad = bad_text_character(value, allow_newlines=True)
            if bad is not None:
                raise MatchInputError(f"{field} holds the control character {describe(bad)}")
        if top_k < 0 or top_k > self.limits.max_top_k:
            raise MatchInputError(
                f"top_k must be between 0 and {self.limits.max_top_k}, got {top_k}"
            )
        return top_k or self.limits.default_top_k

    def hits(self, text: str, vehicle: str = "") -> tuple[dict[str, list[Hit]], bool]:
        """Every signal's hits for a text, the check of their candidates against the request
        (stated attributes, words explained, numbers), and whether any signal was unavailable."""
        hits, degraded, _ = self._evidence(self._live.current, Query.parse(text, vehicle=vehicle))
        return hits, degraded

    def shortlist(self, text: str, vehicle: str = "") -> list[str]:
        """The candidates the reranker would score for a text, best first."""
        view = self._live.current
        hits, _ = self._search_all(view, Query.parse(text, vehicle=vehicle))
        return self._shortlist(view, hits)

    @staticmethod
    def _shortlist(view: CatalogView, hits: Mapping[str, Sequence[Hit]]) -> list[str]:
        return [sku for sku in shortlist(hits) if sku in view.parts]

    def encode_ahead(self, texts: Sequence[str]) -> Iterator[list[int]]:
        """Encodes the queries of a batch of requests a forward pass at a time, shortest first
        (a pass pads to its longest text), and yields the indices of each pass's texts once
        their vectors are cached, so that each Match of the batch finds its query's vector
        instead of paying a pass of its own. The next pass runs on another thread while the
        caller matches the texts yielded (the encoder's runtime releases the GIL), so a batch
        costs about its passes rather than its passes plus its matching."""
        encoder = self._encoder
        if encoder is None or not texts:
            yield list(range(len(texts)))
            return
        queries = [Query.parse(text).text for text in texts]
        order = sorted(range(len(texts)), key=lambda i: len(queries[i]))
        passes = [order[i : i + encoder.pass_size] for i in range(0, len(order), encoder.pass_size)]

        def encode(rows: list[int]) -> None:
            encoder.encode([queries[i] for i in rows], remember=False)

        ahead = self._ahead.submit(encode, passes[0])
        for n, rows in enumerate(passes):
            ahead.result()
            if n + 1 < len(passes):
                ahead = self._ahead.submit(encode, passes[n + 1])
            yield rows

    def match_batch(
        self, requests: Sequence[BatchItem], before_each: Callable[[], None] = lambda: None
    ) -> list[MatchResult]:
        """Matches a batch of requests, answered in their order: encoded ahead a pass at a time
        (encode_ahead), each pass's texts matched on the batch threads as soon as their vectors
        are cached, while the passes after it are encoded. `before_each` runs before each text
        is matched; what it raises (a deadline passed) fails the batch."""

        def run(i: int) -> MatchResult:
            before_each()
            item = requests[i]
            return self.match(item.text, item.top_k, vehicle=item.vehicle)

        futures: dict[int, Future[MatchResult]] = {}
        try:
            for rows in self.encode_ahead([item.text for item in requests]):
                futures.update((i, self._batch.submit(run, i)) for i in rows)
            return [futures[i].result() for i in range(len(requests))]
        finally:
            for future in futures.values():
                future.cancel()  # after a failure: the rest of the batch is not matched

    def match(self, text: str, top_k: int = 0, vehicle: str = "") -> MatchResult:
        k = self.validate(text, top_k, vehicle)
        view = self._live.current
        hits, degraded, check = self._evidence(view, Query.parse(text, vehicle=vehicle))
        ranking = self.fusion.rank(hits).restricted_to(view.parts).agreeing_first(check.stances)
        return MatchResult(
            text=text,
            candidates=[
                self._candidate(r, view.parts[r.sku], check.marks.get(r.sku, ()))
                for r in ranking.candidates[:k]
            ],
            decision=self.policy.decide(ranking),
            model_version=self.model_version,
            request_id=uuid.uuid4().hex,
            degraded=degraded,
            vehicle=vehicle,
            nomatch_probability=ranking.nomatch_probability,
        )

    def _evidence(
        self, view: CatalogView, query: Query
    ) -> tuple[dict[str, list[Hit]], bool, CandidateCheck]:
        """The signals' hits plus the check of every proposed candidate, whether a signal was
        unavailable, and the check (each candidate's marks against what the customer
        stated)."""
        check = CandidateCheck(view, query)
        hits, degraded = self._search_all(view, query, check)
        if self.reranker is not None:
            hits[RERANK] = self.reranker.hits(
                rerank_query(query.raw, query.vehicle),
                {sku: rerank_text(view.parts[sku]) for sku in self._shortlist(view, hits)},
            )
        check.add(hits.values())
        hits[CANDIDATE_CHECK] = check.hits()
        return hits, degraded, check

    def _search_all(
        self, view: CatalogView, query: Query, early_check: CandidateCheck | None = None
    ) -> tuple[dict[str, list[Hit]], bool]:
        """Every signal's hits; when the query's pass has the encoder to itself, `early_check`
        is handed the candidates found before the first signal that needs the vector."""
        check = early_check
        hits: dict[str, list[Hit]] = {}
        degraded = False
        # The query's pass runs on the encoder's thread while the signals that need no vector
        # (lexical, fuzzy, codes: listed first) search, and, when the pass has the encoder to
        # itself, while their candidates are checked. Under load, or with the vector known,
        # the check waits for all the candidates: checked in two steps on every request, the
        # server answered 5-9% fewer requests per second under 16 clients in two of three
        # paired runs (most likely the GIL: the work is the same).
        if self._encoder is None or not self._encoder.prefetch(query.text):
            check = None
        futures = {
            s.name: self._pool.submit(s.search, view, query, CANDIDATE_POOL)
            for s in self.signals
            if s.name in self._remote
        }
        for signal in self.signals:
            if signal.name in futures:
                continue
            if check is not None and signal.name in self._vector_signals:
                check.add(hits.values())  # once, before the first signal that waits
                check = None
            hits[signal.name] = signal.search(view, query, CANDIDATE_POOL)
        for name, future in futures.items():
            try:
                hits[name] = future.result(timeout=self._remote_timeout_s)
                self.degraded_signals.discard(name)
            except (SignalUnavailable, FutureTimeout) as exc:
                log.warning("signal %s unavailable, answering without it: %s", name, exc)
                self.degraded_signals.add(name)
                degraded = True
        return hits, degraded

    @staticmethod
    def _candidate(ranked: Ranked, part: Part, marks: tuple[Mark, ...]) -> Candidate:
        return Candidate(
            sku=ranked.sku,
            name=part.name,
            confidence=round(float(ranked.confidence), 6),
            signals=signal_scores(ranked.features),
            features=ranked.features,
            marks=marks,
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._ahead.shutdown(wait=False, cancel_futures=True)
        self._batch.shutdown(wait=False, cancel_futures=True)
        if self._encoder is not None:
            self._encoder.close()
