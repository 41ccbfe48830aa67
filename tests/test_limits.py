"""Limits at the edge, from one place (Settings): every field a caller sends, batches that are
all or nothing down to the review queue, pages that fit the message limit, model names that
cannot point outside the registry, and a bounded number of calls in progress."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from matcher.channel import authorized
from matcher.encoder import Encoder
from tests.conftest import TESTER, TESTER_TOKEN
from tests.serving import Serving, code_and_details, serving

INVALID = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture
def server(tmp_path: Path, encoder: Encoder) -> Iterator[Serving]:
    with serving(tmp_path, encoder, tokens=TESTER, max_text_chars=2000) as running:
        yield running


@pytest.fixture
def channel(server: Serving) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as raw:
        yield authorized(raw, TESTER_TOKEN)


def pending(server: Serving) -> list[str]:
    with sqlite3.connect(server.settings.catalog_db) as db:
        return [row[0] for row in db.execute("SELECT text FROM reviews ORDER BY text")]


def test_a_long_text_within_the_configured_limit_is_answered_and_queued(
    server: Serving, channel: grpc.Channel
) -> None:
    # Used to be INTERNAL: the review queue kept a limit of its own (1,000 characters).
    text = "brake pads for the front " * 60
    assert 1000 < len(text) <= 2000
    answer = pb_grpc.MatcherStub(channel).Match(pb.MatchRequest(text=text), timeout=60)
    assert answer.decision == pb.NEEDS_REVIEW and answer.review_id
    assert pending(server) == [text]
    code, details = code_and_details(
        lambda: pb_grpc.MatcherStub(channel).Match(pb.MatchRequest(text="x" * 2001), timeout=30)
    )
    assert code == INVALID and "2000" in details


@pytest.mark.parametrize(
    ("request_", "names"),
    [
        (pb.MatchRequest(text="pads\x00"), "text holds the control character U+0000"),
        (pb.MatchRequest(text="pads\u202e"), "U+202E"),
        (
            pb.MatchRequest(text="pads", context=pb.MatchContext(vehicle="golf " * 41)),
            "context.vehicle is 205 characters",
        ),
    ],
)
def test_match_fields_are_checked(
    channel: grpc.Channel, request_: pb.MatchRequest, names: str
) -> None:
    code, details = code_and_details(
        lambda: pb_grpc.MatcherStub(channel).Match(request_, timeout=30)
    )
    assert code == INVALID and names in details


def test_a_batch_is_queued_whole_or_not_at_all(server: Serving, channel: grpc.Channel) -> None:
    stub = pb_grpc.MatcherStub(channel)
    # One item over the limit: refused before anything is answered or queued.
    code, details = code_and_details(
        lambda: stub.MatchBatch(
            pb.MatchBatchRequest(
                requests=[pb.MatchRequest(text="brake pads"), pb.MatchRequest(text="b" * 2001)]
            ),
            timeout=60,
        )
    )
    assert code == INVALID and "requests[1]" in details
    assert pending(server) == []
    # The queue fails on the batch's second item (as a full disk would; SQLite's trigger is
    # the one way to make it fail here on demand): the first must not stay queued either.
    with sqlite3.connect(server.settings.catalog_db) as db:
        db.execute(
            "CREATE TRIGGER full BEFORE INSERT ON reviews WHEN NEW.text = 'spark plug' "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    batch = pb.MatchBatchRequest(
        requests=[pb.MatchRequest(text="brake pads"), pb.MatchRequest(text="spark plug")]
    )
    code, _ = code_and_details(lambda: stub.MatchBatch(batch, timeout=60))
    assert code == grpc.StatusCode.INTERNAL
    assert pending(server) == []
    with sqlite3.connect(server.settings.catalog_db) as db:
        db.execute("DROP TRIGGER full")
    answers = stub.MatchBatch(batch, timeout=60).responses
    assert all(a.review_id for a in answers)
    assert pending(server) == ["brake pads", "spark plug"]


@pytest.mark.parametrize(
    ("part", "names"),
    [
        (pb.Part(sku="A\x00B", name="x"), "invisible character U+0000"),
        (pb.Part(sku="A\nB", name="x"), "U+000A"),
        (pb.Part(sku="ALT\u202e", name="x"), "U+202E"),
        (pb.Part(sku="AL\u200bT", name="x"), "U+200B"),
        (pb.Part(sku="S" * 129, name="x"), "at most 128 characters"),
        (pb.Part(sku="N1", name="n" * 501), "name is over 500"),
        (pb.Part(sku="N1", name="x", aliases=["a"] * 51), "51 aliases; at most 50"),
        (pb.Part(sku="N1", name="x", aliases=["a" * 10_000]), "aliases[0] is over 200"),
        (pb.Part(sku="N1", name="x", attributes={"k": "v" * 1_000_000}), "is over 500"),
        (
            pb.Part(sku="N1", name="x", attributes={f"k{i}": "v" for i in range(51)}),
            "51 attributes; at most 50",
        ),
        (pb.Part(sku="N1", name="x", attributes={"k" * 65: "v"}), "attribute names must be"),
        (pb.Part(sku="N1", name="x\u202eevil"), "name holds the control character"),
    ],
)
def test_parts_are_bounded_and_visible(
    server: Serving, channel: grpc.Channel, part: pb.Part, names: str
) -> None:
    before = server.store.parts()
    code, details = code_and_details(
        lambda: pb_grpc.CatalogStub(channel).UpsertParts(
            pb.UpsertPartsRequest(parts=[pb.Part(sku="OK-1", name="fine"), part]), timeout=30
        )
    )
    assert code == INVALID and "parts[1]" in details and names in details
    assert server.store.parts() == before  # nothing half-applied


def test_list_pages_fit_the_message_limit(tmp_path: Path, encoder: Encoder) -> None:
    with (
        serving(tmp_path, encoder, tokens=TESTER, max_message_bytes=65_536) as server,
        grpc.insecure_channel(
            server.address, options=[("grpc.max_receive_message_length", 65_536)]
        ) as raw,
    ):
        catalog = pb_grpc.CatalogStub(authorized(raw, TESTER_TOKEN))
        heavy = [
            pb.Part(sku=f"BIG-{i:02d}", name=f"heavy part {i}", description="d" * 10_000)
            for i in range(20)
        ]
        for start in range(0, len(heavy), 5):  # 50 KB a call, under the limit both ways
            catalog.UpsertParts(pb.UpsertPartsRequest(parts=heavy[start : start + 5]), timeout=30)
        seen: list[str] = []
        token, pages = "", 0
        while True:
            page = catalog.ListParts(
                pb.ListPartsRequest(page_size=1000, page_token=token), timeout=30
            )
            assert page.ByteSize() <= 65_536
            seen += [p.sku for p in page.parts]
            pages += 1
            token = page.next_page_token
            if not token:
                break
        assert sorted(seen) == sorted(p.sku for p in server.store.parts())
    assert pages >= 4  # 200 KB of parts cannot come in one 64 KB page


@pytest.mark.parametrize(
    "version", ["/etc", "../../../../etc", "v0001/../../x", "current", "v1", "v0001\x00"]
)
def test_reload_takes_only_a_version_name(
    server: Serving, channel: grpc.Channel, version: str
) -> None:
    code, details = code_and_details(
        lambda: pb_grpc.AdminStub(channel).ReloadModel(
            pb.ReloadModelRequest(version=version), timeout=30
        )
    )
    assert code == INVALID and "not a model version name" in details
    assert str(server.settings.state_dir) not in details


def test_reload_errors_name_no_paths(server: Serving, channel: grpc.Channel) -> None:
    code, details = code_and_details(
        lambda: pb_grpc.AdminStub(channel).ReloadModel(
            pb.ReloadModelRequest(version="v0042"), timeout=30
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "v0042" in details
    assert "/" not in details


def test_calls_past_the_concurrency_limit_are_refused_at_once(
    tmp_path: Path, encoder: Encoder
) -> None:
    with (
        serving(tmp_path, encoder, max_concurrent_rpcs=1) as server,
        grpc.insecure_channel(server.address) as channel,
    ):
        stub = pb_grpc.MatcherStub(channel)
        # Long texts: a batch of short ones on this tiny catalog can finish within the sleep.
        filler = " for the front axle of my old car" * 8
        batch = pb.MatchBatchRequest(
            requests=[pb.MatchRequest(text=f"brake pads number {i}{filler}") for i in range(256)]
        )
        done = threading.Event()

        def busy() -> None:
            stub.MatchBatch(batch, timeout=300)
            done.set()

        worker = threading.Thread(target=busy)
        worker.start()
        try:
            time.sleep(0.5)  # the batch is under way: it takes seconds
            assert not done.is_set()
            started = time.monotonic()
            code, _ = code_and_details(
                lambda: stub.Match(pb.MatchRequest(text="alternator"), timeout=30)
            )
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert time.monotonic() - started < 2.0  # refused, not queued
        finally:
            worker.join()
        assert done.is_set()
        assert stub.Match(pb.MatchRequest(text="alternator"), timeout=30).candidates
