"""Query encoding: concurrent queries share forward passes, a query is encoded while the signals
that need no vector search, a batch is encoded a pass ahead of its matching, and the vectors
are those of encoding each text alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from matcher.app import build_matcher
from matcher.catalog import Part
from matcher.catalog_view import CatalogView
from matcher.config import Settings
from matcher.encoder import Encoder, QueryBatcher
from matcher.examples import Example
from matcher.query import Query
from matcher.signals.base import Hit
from matcher.signals.lexical import BM25Signal


@pytest.fixture
def passes(encoder: Encoder) -> Iterator[list[int]]:
    """The size of every forward pass of the real model, recorded on the way through."""
    sizes: list[int] = []
    model = encoder.model
    real = model.encode

    def recording(sentences: Any, *args: Any, **kwargs: Any) -> Any:
        sizes.append(len(sentences))
        return real(sentences, *args, **kwargs)

    model.encode = recording  # type: ignore[method-assign]
    encoder.forget_queries()
    try:
        yield sizes
    finally:
        model.encode = real  # type: ignore[method-assign]
        encoder.forget_queries()


def wait_for(passes: list[int], count: int) -> None:
    """Until `count` passes have run, 5 s at most (what the caller asserts next fails then)."""
    deadline = time.monotonic() + 5
    while len(passes) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_concurrent_queries_share_passes_and_get_their_own_vectors(
    encoder: Encoder, passes: list[int]
) -> None:
    # Texts no other test encodes: a known text would need no pass at all.
    texts = [f"batcher check {i}: rear brake pads for a golf" for i in range(24)]
    start = threading.Barrier(len(texts))

    def query(text: str) -> np.ndarray:
        start.wait()
        return encoder.encode_query(text)

    with ThreadPoolExecutor(len(texts)) as pool:
        vectors = list(pool.map(query, texts))

    assert sum(passes) == len(texts)
    # 24 queries arriving together cannot each have had a pass to themselves: while the
    # first pass ran, the others queued for the next.
    assert len(passes) < len(texts), passes
    encoder.forget_queries()
    alone = np.stack([encoder.encode([t], remember=False)[0] for t in texts])
    np.testing.assert_allclose(np.stack(vectors), alone, atol=1e-5)


def test_a_batch_is_encoded_in_passes_each_ahead_of_its_matching(
    settings: Settings,
    encoder: Encoder,
    parts: list[Part],
    history: list[Example],
    passes: list[int],
) -> None:
    matcher = build_matcher(settings, parts, history, encoder=encoder, lexical=BM25Signal())
    # Texts no other test encodes, so that each needs a pass.
    texts = [f"ahead check {i}: front brake pads" for i in range(5)]
    texts[2] = "ahead check: front brake pads for a golf with a much longer text than the rest"
    encoder.batch_size = 2  # passes of two (the torch encoder's pass is its batch size)
    passes.clear()  # the catalog's and history's own passes
    try:
        ahead = matcher.encode_ahead(texts)
        first = next(ahead)
        # While the caller matches the first pass's texts, the next pass is already running.
        wait_for(passes, 2)
        assert passes == [2, 2]
        rows = [first, *ahead]
        answers = [matcher.match(t) for t in texts]
    finally:
        encoder.batch_size = 64
        matcher.close()
    assert passes == [2, 2, 1]
    # Shortest first, so a pass pads little; every text once.
    assert rows[-1] == [2]
    assert sorted(i for pass_rows in rows for i in pass_rows) == list(range(len(texts)))
    # Each Match found its query's vector cached: no pass of its own.
    assert len(passes) == 3
    assert all(a.candidates[0].sku == "BRK-F" for a in answers)


def test_a_match_encodes_its_query_while_the_signals_that_need_no_vector_search(
    settings: Settings,
    encoder: Encoder,
    parts: list[Part],
    history: list[Example],
    passes: list[int],
) -> None:
    seen: list[int] = []

    class PatientLexical(BM25Signal):
        """BM25 that waits for the query's pass before it searches."""

        def search(self, view: CatalogView, query: Query, k: int) -> list[Hit]:
            wait_for(passes, 1)
            seen.append(len(passes))
            return super().search(view, query, k)

    matcher = build_matcher(settings, parts, history, encoder=encoder, lexical=PatientLexical())
    passes.clear()  # the catalog's and history's own passes
    try:
        answer = matcher.match("prefetch check: front brake pads")
    finally:
        matcher.close()
    # The pass ran while the lexical signal searched, and it was the only one: the semantic
    # signal and the classifier found the query's vector.
    assert seen == [1]
    assert passes == [1]
    assert answer.candidates[0].sku == "BRK-F"


def test_prefetch_says_whether_the_pass_has_the_encoder_to_itself(encoder: Encoder) -> None:
    # A long first text: its pass runs for tens of milliseconds, the next calls take micro-
    # seconds, so they find it running (or their queries queued behind it).
    first = "prefetch idle check: " + " ".join(["front brake pads for a 2012 golf"] * 30)
    others = [f"prefetch idle check {i}: rear wiper blade" for i in range(8)]
    encoder.forget_queries()
    assert encoder.prefetch(first)
    assert not any(encoder.prefetch(text) for text in others)
    for text in [first, *others]:
        encoder.encode_query(text)
    # Known now: nothing to wait for.
    assert not encoder.prefetch(first)


def test_a_failed_pass_fails_every_query_it_held_and_the_next_pass_works() -> None:
    # A stand-in for the model: an encoder that fails on demand cannot be made for real.
    entered, release = threading.Event(), threading.Event()
    calls: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        if len(calls) == 1:
            entered.set()
            release.wait(5)  # hold the first pass so that the next queries queue behind it
            return np.ones((len(texts), 3))
        if len(calls) == 2:
            raise RuntimeError("model crashed")
        return np.zeros((len(texts), 3))

    batcher = QueryBatcher(encode)
    first = batcher.submit("first")
    assert entered.wait(5)
    queued = [batcher.submit(f"queued {i}") for i in range(3)]
    release.set()
    assert first.result(5).tolist() == [1.0, 1.0, 1.0]
    for future in queued:
        with pytest.raises(RuntimeError, match="model crashed"):
            future.result(5)
    assert batcher.submit("after").result(5).tolist() == [0.0, 0.0, 0.0]
    assert calls[1] == [f"queued {i}" for i in range(3)]


def test_closing_the_batcher_ends_its_worker_after_the_queued_queries() -> None:
    # The worker references the encoder, so a worker that never ended kept every model
    # swapped out by a reload in memory.
    entered, release = threading.Event(), threading.Event()

    def encode(texts: list[str]) -> np.ndarray:
        entered.set()
        release.wait(5)
        return np.full((len(texts), 2), float(len(texts)))

    batcher = QueryBatcher(encode)
    first = batcher.submit("first")
    assert entered.wait(5)
    queued = [batcher.submit(f"queued {i}") for i in range(2)]
    worker = batcher.close()
    assert worker is not None and worker.is_alive()
    release.set()
    worker.join(5)
    assert not worker.is_alive()
    assert first.result(0).tolist() == [1.0, 1.0]
    assert [f.result(0).tolist() for f in queued] == [[2.0, 2.0]] * 2
    # Closed is not broken: the next query starts a new worker.
    assert batcher.submit("later").result(5).tolist() == [1.0, 1.0]
    later = batcher.close()
    assert later is not None and later is not worker
    later.join(5)
    assert not later.is_alive()


def test_a_closed_matcher_ends_its_encoders_worker() -> None:
    from matcher.app import build_matcher
    from matcher.config import Settings
    from tests.conftest import tiny_catalog

    settings = Settings.from_env()
    matcher = build_matcher(settings, tiny_catalog(), [], encoder=Encoder(settings.model_path))
    before = set(threading.enumerate())
    assert matcher.match("front brake pads").candidates
    started = [t for t in threading.enumerate() if t.name == "query-encoder" and t not in before]
    assert len(started) == 1
    matcher.close()
    started[0].join(5)
    assert not started[0].is_alive()
