"""The review loop over real gRPC: Match enqueues, staff list and resolve, feedback records.

A real server (create_server) on localhost with a matcher built by build_matcher on a tiny
catalog; the review queue is the SQLite file of a temporary state directory.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from matcher.app import build_matcher
from matcher.attributes.marks import Mark
from matcher.catalog import make_part
from matcher.catalog_store import SqliteCatalogStore
from matcher.channel import authorized
from matcher.config import ConfigError, Settings
from matcher.encoder import Encoder
from matcher.engine import Candidate
from matcher.examples import Example
from matcher.principals import TokenError, parse_staff_tokens
from matcher.review_priority import uncertainty
from matcher.review_queue import ReviewInputError, SqliteReviewQueue, normalise
from matcher.server import MatcherHolder, create_server

ALICE = "alice-token-0123456789"
BOB = "bob-token-abcdefghijkl"
STAFF = f"alice:{ALICE},bob:{BOB}"
# The storefront and the catalog feed: Feedback and Catalog calls are theirs.
SHOP = "shop-token-0123456789abc"
SHOP_CALLER = f"shop:storefront+catalog:{SHOP}"

PARTS = [
    make_part(
        sku="BRK-F-CIVIC",
        name="Front Brake Pad Set - Honda Civic",
        aliases=["front disc pads"],
        attributes={"category": "brakes", "part_number": "45022-TR0-A01"},
    ),
    make_part(
        sku="BRK-R-CIVIC", name="Rear Brake Pad Set - Honda Civic", aliases=["rear disc pads"]
    ),
    make_part(sku="ALT-GOLF", name="Alternator 140A - VW Golf", aliases=["generator"]),
    make_part(sku="WIP-24", name="Wiper Blade 24in", aliases=["windscreen wiper"]),
    make_part(sku="OIL-FLT", name="Oil Filter - Toyota Corolla", aliases=["engine oil filter"]),
    make_part(sku="BAT-70", name="Car Battery 70Ah", aliases=["12v battery"]),
]
HISTORY = [
    Example("pads for the front of my civic", "BRK-F-CIVIC"),
    Example("wiper for windscreen", "WIP-24"),
    Example("do you sell bikes", None),
]


class Server:
    def __init__(self, settings: Settings, port: int, store: SqliteCatalogStore) -> None:
        self.settings = settings
        self.store = store
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        shop = authorized(self.channel, SHOP)
        self.matcher = pb_grpc.MatcherStub(self.channel)
        self.catalog = pb_grpc.CatalogStub(shop)
        self.review = pb_grpc.ReviewStub(self.channel)
        self.feedback = pb_grpc.FeedbackStub(shop)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def match(self, text: str, vehicle: str = "") -> pb.MatchResponse:
        request = pb.MatchRequest(text=text, context=pb.MatchContext(vehicle=vehicle))
        response: pb.MatchResponse = self.matcher.Match(request, timeout=30)
        return response

    def queued(self, text: str) -> str:
        response = self.match(text)
        assert response.decision == pb.NEEDS_REVIEW, (text, response)
        assert response.review_id
        return response.review_id

    def examples(self) -> list[tuple[str, str | None, str]]:
        with sqlite3.connect(self.settings.catalog_db) as db:
            rows = db.execute("SELECT text, sku, source FROM examples ORDER BY id").fetchall()
        return [(t, s, src) for t, s, src in rows]


def auth(token: str = ALICE) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


@pytest.fixture
def server(tmp_path: Path, encoder: Encoder) -> Iterator[Server]:
    settings = Settings.from_env(
        env={},
        state_dir=tmp_path / "state",
        grpc_address="127.0.0.1:0",
        staff_tokens=STAFF,
        tokens=SHOP_CALLER,
    )
    store = SqliteCatalogStore(settings.catalog_db)
    store.replace_all(PARTS, HISTORY)
    holder = MatcherHolder(
        build_matcher(settings, store.parts(), store.examples(), encoder=encoder)
    )
    grpc_server, port = create_server(settings, holder, store)
    grpc_server.start()
    running = Server(settings, port, store)
    yield running
    running.channel.close()
    grpc_server.stop(grace=None).wait()
    store.close()


def code_of(call: Callable[[], object]) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error = caught.value
    assert isinstance(error, grpc.Call)
    code: grpc.StatusCode = error.code()
    return code


def rpc_error(call: Callable[[], object]) -> grpc.Call:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    assert isinstance(caught.value, grpc.Call)
    return caught.value


# -- enqueue through Match ---------------------------------------------------------------


def test_needs_review_answer_is_queued_with_its_review_id(server: Server) -> None:
    response = server.match("brake pads for civic")
    assert response.decision == pb.NEEDS_REVIEW
    assert response.review_id

    item = server.review.GetReview(pb.GetReviewRequest(id=response.review_id), metadata=auth())
    assert item.status == pb.PENDING
    assert item.text == "brake pads for civic"
    assert item.request_id == response.request_id
    assert item.model_version == response.model_version
    assert [c.sku for c in item.candidates] == [c.sku for c in response.candidates]
    assert dict(item.candidates[0].signals) == pytest.approx(dict(response.candidates[0].signals))
    top, second = response.candidates[0].confidence, response.candidates[1].confidence
    assert item.priority == pytest.approx(1 - (top - second))
    assert item.created_at == pytest.approx(time.time(), abs=60)


def test_confident_and_no_match_answers_are_not_queued(server: Server) -> None:
    accepted = server.match("45022-TR0-A01")
    nothing = server.match("zxqv plorb")
    assert accepted.decision == pb.AUTO_ACCEPT and not accepted.review_id
    assert nothing.decision == pb.NO_MATCH and not nothing.review_id
    listed = server.review.ListPending(pb.ListPendingRequest(), metadata=auth())
    assert listed.total_pending == 0 and not listed.items


def test_a_repeated_text_is_queued_once_and_rises(server: Server) -> None:
    first = server.queued("oil filter corolla")
    server.queued("wiper blade 24in")  # more certain than the oil filter: lower priority
    brake = server.queued("brake pads for civic")  # near tie: the highest priority
    order = server.review.ListPending(pb.ListPendingRequest(), metadata=auth()).items
    assert [i.text for i in order] == [
        "brake pads for civic",
        "oil filter corolla",
        "wiper blade 24in",
    ]
    before = {i.id: i.priority for i in order}

    # Case, spacing and punctuation do not make a new item.
    for variant in ("Oil  Filter, COROLLA!", "oil filter corolla", "oil filter corolla"):
        assert server.queued(variant) == first
    after = server.review.ListPending(pb.ListPendingRequest(), metadata=auth())
    assert after.total_pending == 3
    assert after.items[0].id == first
    assert after.items[0].priority > before[first] > 0
    assert after.items[0].text == "oil filter corolla"  # the first text is what is shown
    assert after.items[1].id == brake


def test_pages_cover_the_queue_once_in_order(server: Server) -> None:
    texts = [
        "brake pads for civic",
        "oil filter corolla",
        "wiper blade 24in",
        "alternator",
        "battery",
        "generator golf",
        "pads civic",
    ]
    ids = {server.queued(t) for t in texts}
    seen: list[pb.ReviewItem] = []
    token = ""
    while True:
        page = server.review.ListPending(
            pb.ListPendingRequest(page_size=3, page_token=token), metadata=auth()
        )
        assert page.total_pending == len(texts)
        assert len(page.items) <= 3
        seen.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    assert [i.id for i in seen if i.id in ids] == [i.id for i in seen]
    assert {i.id for i in seen} == ids and len(seen) == len(ids)
    keys = [(-i.priority, i.created_at) for i in seen]
    assert keys == sorted(keys)


def test_filters_by_candidate_sku_and_text(server: Server) -> None:
    brake = server.queued("brake pads for civic")
    oil = server.queued("oil filter corolla")
    server.queued("wiper blade 24in")

    by_sku = server.review.ListPending(
        pb.ListPendingRequest(candidate_sku="BRK-R-CIVIC"), metadata=auth()
    )
    assert brake in [i.id for i in by_sku.items]
    assert all(any(c.sku == "BRK-R-CIVIC" for c in i.candidates) for i in by_sku.items)
    assert by_sku.total_pending == len(by_sku.items)

    by_text = server.review.ListPending(
        pb.ListPendingRequest(text_contains="FILTER"), metadata=auth()
    )
    assert [i.id for i in by_text.items] == [oil]
    assert by_text.total_pending == 1

    none = server.review.ListPending(pb.ListPendingRequest(text_contains="zzz"), metadata=auth())
    assert not none.items and none.total_pending == 0 and not none.next_page_token


# -- resolving -----------------------------------------------------------------------------


def test_resolve_labels_the_text_once_and_is_idempotent(server: Server) -> None:
    review_id = server.queued("brake pads for civic")
    before = server.examples()
    request = pb.ResolveReviewRequest(id=review_id, sku="BRK-R-CIVIC", reviewer="alice")

    resolved = server.review.ResolveReview(request, metadata=auth())
    assert resolved.status == pb.RESOLVED
    assert resolved.resolved_sku == "BRK-R-CIVIC" and not resolved.names_no_part
    assert resolved.reviewer == "alice" and resolved.resolved_at >= resolved.created_at
    assert server.examples() == [*before, ("brake pads for civic", "BRK-R-CIVIC", "review")]

    # The same resolution again (a retry, or another reviewer agreeing) changes nothing.
    again = server.review.ResolveReview(
        pb.ResolveReviewRequest(id=review_id, sku="BRK-R-CIVIC", reviewer="bob"), metadata=auth(BOB)
    )
    assert again == resolved
    assert len(server.examples()) == len(before) + 1
    listed = server.review.ListPending(pb.ListPendingRequest(), metadata=auth())
    assert review_id not in [i.id for i in listed.items]
    assert server.review.GetReview(pb.GetReviewRequest(id=review_id), metadata=auth()) == resolved


def test_names_no_part_is_a_label_too(server: Server) -> None:
    review_id = server.queued("battery")
    resolved = server.review.ResolveReview(
        pb.ResolveReviewRequest(id=review_id, names_no_part=True, reviewer="bob"),
        metadata=auth(BOB),
    )
    assert resolved.names_no_part and resolved.resolved_sku == ""
    assert server.examples()[-1] == ("battery", None, "review")


def test_resolving_differently_is_refused_and_changes_nothing(server: Server) -> None:
    review_id = server.queued("alternator")
    first = server.review.ResolveReview(
        pb.ResolveReviewRequest(id=review_id, sku="ALT-GOLF", reviewer="alice"), metadata=auth()
    )
    examples = server.examples()
    for request in (
        pb.ResolveReviewRequest(id=review_id, sku="BAT-70", reviewer="bob"),
        pb.ResolveReviewRequest(id=review_id, names_no_part=True, reviewer="bob"),
    ):
        error = rpc_error(partial(server.review.ResolveReview, request, metadata=auth(BOB)))
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "ALT-GOLF" in (error.details() or "") and "alice" in (error.details() or "")
    assert server.review.GetReview(pb.GetReviewRequest(id=review_id), metadata=auth()) == first
    assert server.examples() == examples


def test_unknown_or_retired_sku_is_refused_and_nothing_is_written(server: Server) -> None:
    review_id = server.queued("brake pads for civic")
    server.catalog.RetireParts(pb.RetirePartsRequest(skus=["BRK-R-CIVIC"]))
    examples = server.examples()
    for sku, word in (("BRK-R-CIVIC", "retired"), ("NO-SUCH-SKU", "unknown")):
        request = pb.ResolveReviewRequest(id=review_id, sku=sku, reviewer="alice")
        error = rpc_error(partial(server.review.ResolveReview, request, metadata=auth()))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert word in (error.details() or "") and sku in (error.details() or "")
    item = server.review.GetReview(pb.GetReviewRequest(id=review_id), metadata=auth())
    assert item.status == pb.PENDING and not item.reviewer
    assert server.examples() == examples


def test_racing_reviewers_produce_one_resolution_and_one_example(server: Server) -> None:
    review_id = server.queued("pads civic")
    examples = len(server.examples())
    outcomes: list[str] = []
    lock = threading.Lock()

    def resolve(sku: str, name: str, token: str) -> None:
        request = pb.ResolveReviewRequest(id=review_id, sku=sku, reviewer=name)
        try:
            item = server.review.ResolveReview(request, metadata=auth(token))
            outcome = f"ok:{item.resolved_sku}"
        except grpc.RpcError as exc:
            assert isinstance(exc, grpc.Call)
            outcome = exc.code().name
        with lock:
            outcomes.append(outcome)

    threads = [
        threading.Thread(target=resolve, args=(sku, name, token))
        for sku, name, token in [("BRK-F-CIVIC", "alice", ALICE), ("BRK-R-CIVIC", "bob", BOB)] * 4
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = server.review.GetReview(pb.GetReviewRequest(id=review_id), metadata=auth())
    winner = f"ok:{final.resolved_sku}"
    assert outcomes.count(winner) == 4  # the winner's own retries are idempotent
    assert outcomes.count("FAILED_PRECONDITION") == 4
    assert len(server.examples()) == examples + 1


def test_a_failure_mid_transaction_leaves_nothing_half_applied(server: Server) -> None:
    review_id = server.queued("generator golf")
    examples = server.examples()
    # A real failure inside the resolve transaction, after its example row is written: the
    # update of the review row aborts (as a full disk or a crash would).
    with sqlite3.connect(server.settings.catalog_db) as db:
        db.execute(
            "CREATE TRIGGER fail_resolve BEFORE UPDATE OF status ON reviews "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
        db.execute(
            "CREATE TRIGGER fail_feedback BEFORE INSERT ON feedback "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    request = pb.ResolveReviewRequest(id=review_id, sku="ALT-GOLF", reviewer="alice")
    assert code_of(lambda: server.review.ResolveReview(request, metadata=auth())) == (
        grpc.StatusCode.INTERNAL
    )
    feedback = pb.ReportMappingRequest(text="golf generator", sku="ALT-GOLF")
    assert code_of(lambda: server.feedback.ReportMapping(feedback)) == grpc.StatusCode.INTERNAL
    assert server.examples() == examples
    item = server.review.GetReview(pb.GetReviewRequest(id=review_id), metadata=auth())
    assert item.status == pb.PENDING

    with sqlite3.connect(server.settings.catalog_db) as db:
        db.execute("DROP TRIGGER fail_resolve")
        db.execute("DROP TRIGGER fail_feedback")
    assert server.review.ResolveReview(request, metadata=auth()).status == pb.RESOLVED
    assert server.examples() == [*examples, ("generator golf", "ALT-GOLF", "review")]


# -- refusals ------------------------------------------------------------------------------


def test_review_needs_a_staff_token(server: Server) -> None:
    review_id = server.queued("alternator")
    calls = {
        "ListPending": lambda md: server.review.ListPending(pb.ListPendingRequest(), metadata=md),
        "GetReview": lambda md: server.review.GetReview(
            pb.GetReviewRequest(id=review_id), metadata=md
        ),
        "ResolveReview": lambda md: server.review.ResolveReview(
            pb.ResolveReviewRequest(id=review_id, sku="ALT-GOLF", reviewer="mallory"), metadata=md
        ),
    }
    bad_metadata = [
        (),
        (("authorization", "Bearer wrong-token-0123456789"),),
        (("authorization", f"Basic {ALICE}"),),
        (("authorization", f"Bearer {ALICE.upper()}"),),
        (("authorization", f"Bearer {ALICE[:-1]}"),),
        (("authorization", "Bearer "),),
    ]
    for name, call in calls.items():
        for metadata in bad_metadata:
            error = rpc_error(partial(call, metadata))
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED, (name, metadata)
    # Even a malformed request is answered UNAUTHENTICATED: nothing is revealed before auth.
    assert (
        code_of(lambda: server.review.ListPending(pb.ListPendingRequest(page_size=-1)))
        == grpc.StatusCode.UNAUTHENTICATED
    )
    item = server.review.GetReview(pb.GetReviewRequest(id=review_id), metadata=auth())
    assert item.status == pb.PENDING


def test_unknown_review_id_is_not_found(server: Server) -> None:
    for call in (
        lambda: server.review.GetReview(pb.GetReviewRequest(id="0" * 32), metadata=auth()),
        lambda: server.review.ResolveReview(
            pb.ResolveReviewRequest(id="0" * 32, sku="BAT-70", reviewer="alice"), metadata=auth()
        ),
    ):
        error = rpc_error(call)
        assert error.code() == grpc.StatusCode.NOT_FOUND
        assert "0" * 32 in (error.details() or "")


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"id": "", "sku": "BAT-70", "reviewer": "alice"}, "id"),
        ({"sku": "BAT-70", "names_no_part": True, "reviewer": "alice"}, "names_no_part"),
        ({"reviewer": "alice"}, "sku"),
        ({"sku": "BAT-70", "reviewer": " "}, "reviewer"),
    ],
)
def test_bad_resolve_requests_name_the_field(
    server: Server, request_fields: dict[str, object], field: str
) -> None:
    review_id = server.queued("battery")
    fields = {"id": review_id, **request_fields}
    request = pb.ResolveReviewRequest(**fields)  # type: ignore[arg-type]
    error = rpc_error(lambda: server.review.ResolveReview(request, metadata=auth()))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (error.details() or "")
    item = server.review.GetReview(pb.GetReviewRequest(id=review_id), metadata=auth())
    assert item.status == pb.PENDING


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"page_size": -1}, "page_size"),
        ({"page_size": 501}, "page_size"),
        ({"page_token": "not a token"}, "page_token"),
        ({"page_token": "WzEsMl0="}, "page_token"),  # base64 of [1,2]: not ours either
        ({"text_contains": "x" * 1001}, "text_contains"),
    ],
)
def test_bad_list_requests_name_the_field(
    server: Server, request_fields: dict[str, object], field: str
) -> None:
    request = pb.ListPendingRequest(**request_fields)  # type: ignore[arg-type]
    error = rpc_error(lambda: server.review.ListPending(request, metadata=auth()))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (error.details() or "")


# -- feedback ------------------------------------------------------------------------------


def test_feedback_records_an_example_once_per_report(server: Server) -> None:
    before = server.examples()
    request = pb.ReportMappingRequest(text="pads for a civic", sku="BRK-F-CIVIC", request_id="r1")
    assert server.feedback.ReportMapping(request).recorded
    # A retried report is not counted twice; a new purchase of the same mapping is.
    assert not server.feedback.ReportMapping(request).recorded
    anonymous = pb.ReportMappingRequest(text="pads for a civic", sku="BRK-F-CIVIC")
    assert server.feedback.ReportMapping(anonymous).recorded
    assert server.examples() == [
        *before,
        ("pads for a civic", "BRK-F-CIVIC", "feedback"),
        ("pads for a civic", "BRK-F-CIVIC", "feedback"),
    ]


def test_feedback_refuses_bad_reports(server: Server) -> None:
    server.catalog.RetireParts(pb.RetirePartsRequest(skus=["BAT-70"]))
    before = server.examples()
    for fields, word in (
        ({"text": "", "sku": "BAT-70"}, "text"),
        ({"text": "battery", "sku": ""}, "sku"),
        ({"text": "battery", "sku": "BAT-70"}, "retired"),
        ({"text": "battery", "sku": "NOPE"}, "unknown"),
        ({"text": "x" * 1001, "sku": "WIP-24"}, "text"),
    ):
        request = pb.ReportMappingRequest(**fields)
        error = rpc_error(partial(server.feedback.ReportMapping, request))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert word in (error.details() or "")
    assert server.examples() == before


# -- server wiring, durability, configuration -------------------------------------------------


def test_review_and_feedback_report_healthy(server: Server) -> None:
    for service in ("partmatch.v1.Review", "partmatch.v1.Feedback"):
        status = server.health.Check(health_pb2.HealthCheckRequest(service=service))
        assert status.status == health_pb2.HealthCheckResponse.SERVING


def test_the_queue_survives_a_restart(server: Server) -> None:
    pending = server.queued("oil filter corolla")
    done = server.queued("alternator")
    server.review.ResolveReview(
        pb.ResolveReviewRequest(id=done, sku="ALT-GOLF", reviewer="alice"), metadata=auth()
    )
    reopened = SqliteReviewQueue(server.settings.catalog_db)
    try:
        assert [i.id for i in reopened.list_pending(10).items] == [pending]
        assert reopened.get(done).resolved_sku == "ALT-GOLF"
        catalog = SqliteCatalogStore(server.settings.catalog_db)
        assert catalog.examples()[-1] == Example("alternator", "ALT-GOLF")
        catalog.close()
    finally:
        reopened.close()


def test_candidate_marks_survive_the_queue_and_reach_the_api(server: Server) -> None:
    side = Mark("side", "right", "left", agrees=False)
    years = Mark("years", "2015", "2014-2019", agrees=True)
    marked = Candidate("OIL-FLT", "Oil Filter - Toyota Corolla", 0.4, {}, {}, (side, years))
    plain = Candidate("BAT-70", "Car Battery 70Ah", 0.3, {}, {})
    store = SqliteReviewQueue(server.settings.catalog_db)
    try:
        review_id = store.enqueue("filter rigth corolla 2015", "", [marked, plain], "r", "m")
        # A row queued before candidates had marks: its JSON has no "marks" key at all.
        old_id = store.enqueue("battery", "", [plain], "r", "m")
        with sqlite3.connect(server.settings.catalog_db) as db:
            db.execute(
                "UPDATE reviews SET candidates = ? WHERE id = ?",
                ('[{"sku": "BAT-70", "name": "Car Battery 70Ah", "confidence": 0.3}]', old_id),
            )
    finally:
        store.close()

    reopened = SqliteReviewQueue(server.settings.catalog_db)
    try:
        stored = reopened.get(review_id).candidates
        assert [c.marks for c in stored] == [(side, years), ()]
        assert reopened.get(old_id).candidates[0].marks == ()
    finally:
        reopened.close()

    item = server.review.GetReview(pb.GetReviewRequest(id=review_id), metadata=auth())
    marks = [(m.attribute, m.stated, m.value, m.agrees) for m in item.candidates[0].marks]
    assert marks == [("side", "right", "left", False), ("years", "2015", "2014-2019", True)]
    assert item.candidates[0].marks[0].explanation == "side: you asked for right, this is left"
    assert not item.candidates[1].marks
    old = server.review.GetReview(pb.GetReviewRequest(id=old_id), metadata=auth())
    assert not old.candidates[0].marks


def test_store_orders_by_priority_then_age_and_keeps_vehicle(tmp_path: Path) -> None:
    catalog = SqliteCatalogStore(tmp_path / "catalog.db")
    catalog.replace_all(PARTS, [])
    store = SqliteReviewQueue(tmp_path / "catalog.db")
    low = store.enqueue("low", "", [], "r1", "m1", priority=0.2)
    high = store.enqueue("high", "2012 VW Golf", [], "r2", "m1", priority=0.9)
    tie = store.enqueue("tie", "", [], "r3", "m1", priority=0.2)  # same priority, newer
    assert [i.id for i in store.list_pending(10).items] == [high, low, tie]
    assert store.get(high).vehicle == "2012 VW Golf"
    # Repeats count, logarithmically: one more sighting of a text first queued at 0.2, now
    # at 0.3, gives 0.3 * (1 + ln 2) = 0.51: still below "high"; ten give 0.99: above.
    assert store.enqueue("LOW!", "", [], "r4", "m1", priority=0.3) == low
    assert store.get(low).priority == pytest.approx(0.3 * (1 + math.log(2)))
    assert [i.id for i in store.list_pending(10).items] == [high, low, tie]
    for _ in range(8):
        assert store.enqueue("  low ", "", [], "r4", "m1", priority=0.1) == low
    assert [i.id for i in store.list_pending(10).items] == [low, high, tie]
    assert store.get(low).seen == 10
    assert store.get(low).request_id == "r1"  # the first answer is the one kept
    with pytest.raises(ReviewInputError, match="text"):
        store.enqueue("  ", "", [], "r5", "m1")
    store.close()
    catalog.close()


def test_uncertainty_and_normalisation() -> None:
    def c(confidence: float) -> Candidate:
        return Candidate("S", "n", confidence, {}, {})

    assert uncertainty([]) == 1.0
    assert uncertainty([c(0.6)]) == pytest.approx(0.4)
    assert uncertainty([c(0.55), c(0.5)]) == pytest.approx(0.95)
    assert uncertainty([c(0.89), c(0.05)]) == pytest.approx(0.16)
    assert normalise("  Front BRAKE-pads, Civic!! ") == normalise("front brake pads civic")
    assert normalise("Bremsbeläge") == normalise("bremsbelage")
    assert normalise("??") == "??"


def test_staff_tokens_configuration() -> None:
    assert parse_staff_tokens(f" alice:{ALICE} , bob:{BOB} ") == {"alice": ALICE, "bob": BOB}
    assert parse_staff_tokens("") == {}
    for raw, message in (
        ("alice", "name:token"),
        (f":{ALICE}", "name:token"),
        ("alice:short", "at least 16"),
        (f"alice:{ALICE},alice:{BOB}", "twice"),
        (f"alice:{ALICE},bob:{ALICE}", "already"),
    ):
        with pytest.raises(TokenError, match=message) as caught:
            parse_staff_tokens(raw)
        assert ALICE not in str(caught.value)  # never echo a secret into logs
    with pytest.raises(ConfigError, match="PARTMATCH_STAFF_TOKENS"):
        Settings.from_env(env={"PARTMATCH_STAFF_TOKENS": "alice:short"})
    with pytest.raises(ConfigError, match="PARTMATCH_CONSOLE_SECRET"):
        Settings.from_env(env={"PARTMATCH_CONSOLE_SECRET": "short"})
    with pytest.raises(ConfigError, match="PARTMATCH_CONSOLE_ADDRESS"):
        Settings.from_env(env={"PARTMATCH_CONSOLE_ADDRESS": "8080"})
    assert Settings.from_env(env={"PARTMATCH_STAFF_TOKENS": STAFF}).staff["bob"] == BOB
