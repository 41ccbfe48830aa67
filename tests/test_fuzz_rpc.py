"""Property-based fuzzing of every RPC over one real server on localhost.

Requests are well typed but hostile: random Unicode (controls, invisible and bidirectional
characters, astral planes; never surrogates, which protobuf strings cannot carry), empty and
huge strings around each limit and past the message limit, extreme integers, random SKUs,
page tokens, review ids and version names (never an existing version: a reload costs a
minute of CPU). The properties:

- a handler never answers INTERNAL or UNKNOWN: every refusal is one of REFUSALS, with a
  message that says what is wrong, and RESOURCE_EXHAUSTED only for a request over the
  message limit (a refusal that quoted a huge input back once arrived as that instead);
- answers keep their promises (confidences in [0, 1], at most top_k candidates, pages no
  larger than asked);
- the server still answers a normal Match afterwards.

Undecodable bytes are sent too: grpcio answers those itself (INTERNAL, "Exception
deserializing request!") before any handler runs; bytes that do decode must meet the same
properties as typed requests. The number of inputs tried per RPC is printed at the end
(tests/fuzzing.py: 150 per RPC, 2000 with PARTMATCH_LONG_TESTS=1).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from hypothesis import given
from hypothesis import strategies as st
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from matcher.access import RULES, bearer_token
from matcher.channel import authorized
from matcher.encoder import Encoder
from matcher.engine import Candidate
from matcher.limits import bad_text_character
from matcher.registry import current_version
from matcher.review_queue import SqliteReviewQueue
from matcher.service import part_to_proto
from tests.conftest import TESTER, TESTER_TOKEN, tiny_catalog
from tests.fuzzing import (
    FUZZ,
    FUZZ_EXAMPLES,
    INT32,
    Tally,
    hostile_text,
    mostly,
    short_text,
    visible_text,
)
from tests.serving import Serving, serving

pytestmark = pytest.mark.slow

S = grpc.StatusCode
REFUSALS = frozenset(
    {
        S.INVALID_ARGUMENT,
        S.NOT_FOUND,
        S.FAILED_PRECONDITION,
        S.PERMISSION_DENIED,
        S.UNAUTHENTICATED,
        S.RESOURCE_EXHAUSTED,
        S.DEADLINE_EXCEEDED,
    }
)
# What grpcio itself answers when request bytes do not decode, before any handler runs.
UNDECODABLE = (S.INTERNAL, "Exception deserializing request!")
# What grpcio answers, on the client, to a header value it will not send.
CLIENT_REFUSED_METADATA = (S.INTERNAL, "Invalid metadata")
TIMEOUT_S = 60
# A normal Match every this many inputs, besides the one at the end of each fuzzer.
HEALTH_EVERY = 25

TINY_SKUS = tuple(p.sku for p in tiny_catalog())
WORDS = ("front brake pads", "alternator", "bonnet latch", "tyre 205/55 R16", "BRK-F", "ALT")
# Over the 4 MiB message limit: grpcio refuses these with RESOURCE_EXHAUSTED.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
OVER_MESSAGE = MAX_MESSAGE_BYTES + 1
# Half hostile, half odd text the engine has to work through.
TEXT = mostly(visible_text(), hostile_text((999, 1000, 1001, OVER_MESSAGE), WORDS))
VEHICLE = st.one_of(st.just(""), hostile_text((199, 200, 201), ("2012 VW Golf",)))
SKU = st.one_of(
    st.sampled_from(TINY_SKUS),
    st.builds(lambda s: "FZ-" + s, short_text(12)),
    st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,14}", fullmatch=True),
    hostile_text((127, 128, 129), TINY_SKUS),
)

tally = Tally()


@dataclass(repr=False)
class Fuzzed:
    server: Serving
    channel: grpc.Channel
    raw: grpc.Channel
    review_ids: list[str]
    part_tokens: list[str]
    review_tokens: list[str]
    versions: frozenset[str]

    def __repr__(self) -> str:  # Hypothesis prints the arguments of a failing example
        return f"Fuzzed({self.server.address})"


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Iterator[Fuzzed]:
    """One server for the whole module, with pending reviews to resolve and real page tokens
    to start from."""
    with serving(tmp_path_factory.mktemp("fuzz"), encoder, tokens=TESTER) as server:
        models = server.settings.models_dir
        # Nothing to reload: an empty version (the registry's current one) is refused at once.
        assert current_version(models) is None
        versions = frozenset(p.name for p in models.iterdir()) if models.is_dir() else frozenset()
        reviews = SqliteReviewQueue(server.settings.catalog_db)
        try:
            shown = [
                Candidate(sku, sku.lower(), 0.4, {"lexical": 0.4}, {})
                for sku in ("BRK-F", "BRK-R", "ALT")
            ]
            review_ids = [
                reviews.enqueue(f"thing number {i} for the car", "", shown, f"req-{i}", "v0001")
                for i in range(40)
            ]
            review_tokens = [reviews.list_pending(3).next_page_token]
        finally:
            reviews.close()
        with grpc.insecure_channel(server.address) as raw:
            channel = authorized(raw, TESTER_TOKEN)
            catalog = pb_grpc.CatalogStub(channel)
            part_tokens = [
                catalog.ListParts(
                    pb.ListPartsRequest(page_size=n), timeout=TIMEOUT_S
                ).next_page_token
                for n in (1, 5)
            ]
            yield Fuzzed(server, channel, raw, review_ids, part_tokens, review_tokens, versions)


def answer(
    target: str, method: Callable[..., Any], request: Message
) -> tuple[grpc.StatusCode, Any]:
    """Call `method` (a stub's); a refusal must be an expected code with a message. Returns
    the code and the response (None when refused)."""
    try:
        response = method(request, timeout=TIMEOUT_S)
    except grpc.RpcError as error:
        assert isinstance(error, grpc.Call)
        code, details = error.code(), error.details() or ""
        tally(target, code.name)
        assert code in REFUSALS, f"{target} answered {code.name}: {details}"
        assert details.strip(), f"{target} answered {code.name} without a message"
        # Only a request past the message limit may be refused for its size: a refusal that
        # quotes a huge input back cannot reach the caller (trailers are capped at 8-16 KiB)
        # and used to arrive as RESOURCE_EXHAUSTED instead of its own code.
        if code == S.RESOURCE_EXHAUSTED:
            assert request.ByteSize() > MAX_MESSAGE_BYTES, f"{target}: {details}"
        return code, None
    tally(target, "OK")
    return S.OK, response


def still_serving(fuzzed: Fuzzed, every: int = 1, target: str = "") -> None:
    if target and tally.counts[target] % every:
        return
    response = pb_grpc.MatcherStub(fuzzed.channel).Match(
        pb.MatchRequest(text="front brake pads"), timeout=TIMEOUT_S
    )
    assert response.model_version


def check_match_response(response: pb.MatchResponse, top_k: int) -> None:
    assert len(response.candidates) <= (top_k or 5)
    assert response.decision != pb.DECISION_UNSPECIFIED
    assert response.request_id
    for candidate in response.candidates:
        assert 0.0 <= candidate.confidence <= 1.0, candidate
        assert all(0.0 <= v <= 1.0 for v in candidate.signals.values()), candidate


# -- Matcher ------------------------------------------------------------------------------

HOSTILE_MATCH = st.builds(
    lambda text, top_k, vehicle: pb.MatchRequest(
        text=text, top_k=top_k, context=pb.MatchContext(vehicle=vehicle)
    ),
    TEXT,
    st.one_of(INT32, st.integers(-1, 51)),
    VEHICLE,
)
# Valid, however odd: these reach every signal, the fusion and the review queue.
ODD_MATCH = st.builds(
    lambda text, top_k, vehicle: pb.MatchRequest(
        text=text, top_k=top_k, context=pb.MatchContext(vehicle=vehicle)
    ),
    visible_text(),
    st.integers(0, 50),
    st.one_of(st.just(""), visible_text(200)),
)
MATCH_REQUEST = mostly(ODD_MATCH, HOSTILE_MATCH)


@FUZZ
@given(request=MATCH_REQUEST)
def test_fuzz_match(fuzzed: Fuzzed, request: pb.MatchRequest) -> None:
    code, response = answer("Matcher.Match", pb_grpc.MatcherStub(fuzzed.channel).Match, request)
    if code == S.OK:
        check_match_response(response, request.top_k)
    still_serving(fuzzed, HEALTH_EVERY, "Matcher.Match")


# Small batches (each item costs a model call), and ones past the batch limit (of short
# requests: a thousand copies of a 4 MiB text would only measure the client's memory).
BATCH = st.one_of(
    st.lists(mostly(ODD_MATCH, HOSTILE_MATCH, good_in=8), max_size=5),
    st.builds(
        lambda text, n: [pb.MatchRequest(text=text)] * n,
        st.one_of(short_text(), visible_text()),
        st.sampled_from((257, 1000)),
    ),
)


@FUZZ
@given(requests=BATCH)
def test_fuzz_match_batch(fuzzed: Fuzzed, requests: list[pb.MatchRequest]) -> None:
    request = pb.MatchBatchRequest(requests=requests)
    code, response = answer(
        "Matcher.MatchBatch", pb_grpc.MatcherStub(fuzzed.channel).MatchBatch, request
    )
    if code == S.OK:
        assert len(response.responses) == len(requests)
        for item, answered in zip(requests, response.responses, strict=True):
            check_match_response(answered, item.top_k)
    still_serving(fuzzed, HEALTH_EVERY, "Matcher.MatchBatch")


# -- Catalog ------------------------------------------------------------------------------

ODD_NAME = visible_text(30)
HOSTILE_PART = st.builds(
    pb.Part,
    sku=SKU,
    name=hostile_text((499, 500, 501), WORDS),
    description=st.one_of(st.just(""), hostile_text((9_999, 10_000, 10_001))),
    aliases=st.one_of(
        st.lists(hostile_text((199, 200, 201), WORDS), max_size=3),
        st.builds(lambda a, n: [a] * n, short_text(5), st.sampled_from((50, 51))),
    ),
    attributes=st.dictionaries(
        hostile_text((63, 64, 65), ("category",)),
        hostile_text((499, 500, 501)),
        max_size=3,
    ),
    active=st.booleans(),
)
# Valid, however odd: these reach the store and every signal.
ODD_PART = st.builds(
    pb.Part,
    sku=st.builds(lambda s: "FZ-" + s, st.from_regex(r"[A-Z0-9]{1,8}", fullmatch=True)),
    name=ODD_NAME,
    description=ODD_NAME,
    aliases=st.lists(ODD_NAME, max_size=2),
    attributes=st.dictionaries(st.sampled_from(("category", "part_number")), ODD_NAME, max_size=2),
)
PARTS = mostly(
    st.lists(ODD_PART, min_size=1, max_size=3, unique_by=lambda p: p.sku),
    st.one_of(
        st.lists(st.one_of(HOSTILE_PART, ODD_PART), max_size=4),
        st.builds(lambda name: [pb.Part(sku="FZ-MANY", name=name)] * 1001, short_text(10)),
    ),
)


@FUZZ
@given(parts=PARTS)
def test_fuzz_upsert_parts(fuzzed: Fuzzed, parts: list[pb.Part]) -> None:
    request = pb.UpsertPartsRequest(parts=parts)
    code, response = answer(
        "Catalog.UpsertParts", pb_grpc.CatalogStub(fuzzed.channel).UpsertParts, request
    )
    if code == S.OK:
        assert response.upserted == len(parts)
        stored = fuzzed.server.store.get(parts[-1].sku)
        assert stored is not None and stored.active
    still_serving(fuzzed, HEALTH_EVERY, "Catalog.UpsertParts")


@FUZZ
@given(
    skus=st.one_of(
        st.lists(SKU, max_size=4),
        st.builds(lambda s, n: [f"{s}{i}" for i in range(n)], short_text(4), st.just(1001)),
    )
)
def test_fuzz_retire_parts(fuzzed: Fuzzed, skus: list[str]) -> None:
    try:
        code, response = answer(
            "Catalog.RetireParts",
            pb_grpc.CatalogStub(fuzzed.channel).RetireParts,
            pb.RetirePartsRequest(skus=skus),
        )
        if code == S.OK:
            assert response.retired == len(set(skus))
        still_serving(fuzzed, HEALTH_EVERY, "Catalog.RetireParts")
    finally:
        # Put the tiny catalog back: the other fuzzers match against it.
        if any(sku in TINY_SKUS for sku in skus):
            pb_grpc.CatalogStub(fuzzed.channel).UpsertParts(
                pb.UpsertPartsRequest(parts=[part_to_proto(p) for p in tiny_catalog()]),
                timeout=TIMEOUT_S,
            )


@FUZZ
@given(sku=SKU)
def test_fuzz_get_part(fuzzed: Fuzzed, sku: str) -> None:
    code, response = answer(
        "Catalog.GetPart",
        pb_grpc.CatalogStub(fuzzed.channel).GetPart,
        pb.GetPartRequest(sku=sku),
    )
    if code == S.OK:
        assert response.sku == sku
    still_serving(fuzzed, HEALTH_EVERY, "Catalog.GetPart")


def b64(data: bytes, urlsafe: bool = True) -> str:
    return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode()


def page_tokens(real: Callable[[], list[str]]) -> st.SearchStrategy[str]:
    """Random text, base64 of random bytes, base64 of what this server's tokens hold (the
    catalog's `after:<sku>`, the queue's JSON [priority, created_at, id]) with hostile
    values, deeply nested JSON, and real tokens cut or with a character changed."""
    json_values: st.SearchStrategy[Any] = st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(),
            st.sampled_from((10**400, -(10**400), 2**63, -(2**63) - 1)),
            short_text(10),
        ),
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(short_text(5), inner)),
        max_leaves=8,
    )
    review_like = st.builds(
        lambda p, c, i: json.dumps([p, c, i]).encode(), json_values, json_values, json_values
    )
    nested = st.builds(
        lambda n, inner: b"[" * n + inner + b"]" * n,
        st.sampled_from((3, 990, 5000, 100_000)),
        st.sampled_from((b"1", b'1, 2, "x"', b"")),
    )
    after = st.builds(lambda s: b"after:" + s.encode(), short_text(20))
    mangled = st.builds(
        lambda t, i, c: t[: i % (len(t) + 1)] + c + t[i % (len(t) + 1) + 1 :],
        st.just(real()).flatmap(st.sampled_from),
        st.integers(0, 200),
        st.sampled_from(("", "=", "==", "A", "-", "_", "+", "/", "é", "\x00")),
    )
    return st.one_of(
        hostile_text((1000, 100_000)),
        mangled,
        *(st.builds(b64, p, st.booleans()) for p in (st.binary(max_size=40), after, nested)),
        st.builds(b64, review_like, st.booleans()),
    )


@FUZZ
@given(data=st.data())
def test_fuzz_list_parts(fuzzed: Fuzzed, data: st.DataObject) -> None:
    request = pb.ListPartsRequest(
        page_size=data.draw(st.one_of(INT32, st.integers(-1, 1001)), "page_size"),
        page_token=data.draw(page_tokens(lambda: fuzzed.part_tokens), "page_token"),
        include_retired=data.draw(st.booleans(), "include_retired"),
    )
    code, response = answer(
        "Catalog.ListParts", pb_grpc.CatalogStub(fuzzed.channel).ListParts, request
    )
    if code == S.OK:
        assert len(response.parts) <= (request.page_size or 100)
        skus = [p.sku for p in response.parts]
        assert skus == sorted(skus)
    still_serving(fuzzed, HEALTH_EVERY, "Catalog.ListParts")


# -- Review and Feedback ------------------------------------------------------------------


def review_ids(fuzzed: Fuzzed) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(fuzzed.review_ids),
        st.uuids().map(lambda u: u.hex),
        hostile_text((1000, 1001, 100_000)),
    )


@FUZZ
@given(data=st.data())
def test_fuzz_list_pending(fuzzed: Fuzzed, data: st.DataObject) -> None:
    request = pb.ListPendingRequest(
        page_size=data.draw(st.one_of(INT32, st.integers(-1, 501)), "page_size"),
        page_token=data.draw(page_tokens(lambda: fuzzed.review_tokens), "page_token"),
        candidate_sku=data.draw(st.one_of(st.just(""), SKU), "candidate_sku"),
        text_contains=data.draw(
            st.one_of(st.just(""), hostile_text((999, 1000, 1001), ("thing", "%", "_"))),
            "text_contains",
        ),
    )
    code, response = answer(
        "Review.ListPending", pb_grpc.ReviewStub(fuzzed.channel).ListPending, request
    )
    if code == S.OK:
        assert len(response.items) <= (request.page_size or 50)
        assert response.total_pending >= len(response.items)
    still_serving(fuzzed, HEALTH_EVERY, "Review.ListPending")


@FUZZ
@given(data=st.data())
def test_fuzz_get_review(fuzzed: Fuzzed, data: st.DataObject) -> None:
    review_id = data.draw(review_ids(fuzzed), "id")
    code, response = answer(
        "Review.GetReview",
        pb_grpc.ReviewStub(fuzzed.channel).GetReview,
        pb.GetReviewRequest(id=review_id),
    )
    if code == S.OK:
        assert response.id == review_id
    still_serving(fuzzed, HEALTH_EVERY, "Review.GetReview")


@FUZZ
@given(data=st.data())
def test_fuzz_resolve_review(fuzzed: Fuzzed, data: st.DataObject) -> None:
    hostile = st.builds(
        pb.ResolveReviewRequest,
        id=review_ids(fuzzed),
        sku=st.one_of(st.just(""), SKU),
        names_no_part=st.booleans(),
        reviewer=hostile_text((199, 200, 201), ("alice",)),
    )
    # A real item, one answer, a name: resolves, or conflicts with an earlier answer.
    plausible = st.builds(
        lambda id_, sku, reviewer: pb.ResolveReviewRequest(
            id=id_, sku=sku, names_no_part=not sku, reviewer=reviewer
        ),
        st.sampled_from(fuzzed.review_ids),
        st.sampled_from(("", *TINY_SKUS)),
        visible_text(30),
    )
    request = data.draw(mostly(plausible, hostile), "request")
    code, response = answer(
        "Review.ResolveReview", pb_grpc.ReviewStub(fuzzed.channel).ResolveReview, request
    )
    if code == S.OK:
        assert response.status == pb.RESOLVED
        assert response.names_no_part == (not response.resolved_sku)
        assert bad_text_character(response.reviewer) is None, response.reviewer
    still_serving(fuzzed, HEALTH_EVERY, "Review.ResolveReview")


REPORT = mostly(
    # A purchase the storefront may well report: recorded (or a repeat of one).
    st.builds(
        pb.ReportMappingRequest,
        text=visible_text(),
        sku=st.sampled_from(TINY_SKUS),
        request_id=st.one_of(st.just(""), st.uuids().map(lambda u: u.hex)),
    ),
    st.builds(
        pb.ReportMappingRequest,
        text=TEXT,
        sku=st.one_of(st.just(""), SKU),
        request_id=st.one_of(st.just(""), hostile_text((999, 1000, 1001))),
    ),
)


@FUZZ
@given(request=REPORT)
def test_fuzz_report_mapping(fuzzed: Fuzzed, request: pb.ReportMappingRequest) -> None:
    code, _ = answer(
        "Feedback.ReportMapping", pb_grpc.FeedbackStub(fuzzed.channel).ReportMapping, request
    )
    if code == S.OK:  # training data: only text Match itself would take, and a known part
        assert bad_text_character(request.text, allow_newlines=True) is None, request.text
        assert request.sku in TINY_SKUS or request.sku.startswith("FZ-"), request.sku
    still_serving(fuzzed, HEALTH_EVERY, "Feedback.ReportMapping")


# -- Admin --------------------------------------------------------------------------------

VERSION = st.one_of(
    hostile_text((255, 256, 1000), ("v0001", "current", "..")),
    # Version-shaped names of every length, including past what a file name may be.
    st.builds(lambda n: "v" + "1" * n, st.sampled_from((1, 3, 4, 5, 200, 255, 256, 300, 5000))),
    st.builds(lambda d: "v" + d, st.from_regex(r"\d{4,12}", fullmatch=True)),
    st.builds(lambda d: "v" + d, st.text(st.sampled_from("0123456789٠١٢٣४५𝟘𝟙"), min_size=4)),
    st.sampled_from(("/etc", "../../../../etc", "v0001/../../x", "v0001\x00", "V0001", "v0001 ")),
)


@FUZZ
@given(data=st.data())
def test_fuzz_reload_model(fuzzed: Fuzzed, data: st.DataObject) -> None:
    # Never an existing version (none exists in this registry; the filter says so anyway).
    version = data.draw(VERSION.filter(lambda v: v not in fuzzed.versions), "version")
    code, response = answer(
        "Admin.ReloadModel",
        pb_grpc.AdminStub(fuzzed.channel).ReloadModel,
        pb.ReloadModelRequest(version=version),
    )
    assert code != S.OK, f"reloaded {version!r}: {response}"
    still_serving(fuzzed, HEALTH_EVERY, "Admin.ReloadModel")


# -- Access and raw bytes -----------------------------------------------------------------

METHODS: dict[str, tuple[type[Message], Message]] = {
    "/partmatch.v1.Matcher/Match": (pb.MatchResponse, pb.MatchRequest(text="alternator")),
    "/partmatch.v1.Matcher/MatchBatch": (
        pb.MatchBatchResponse,
        pb.MatchBatchRequest(requests=[pb.MatchRequest(text="alternator")]),
    ),
    "/partmatch.v1.Catalog/UpsertParts": (pb.UpsertPartsResponse, pb.UpsertPartsRequest()),
    "/partmatch.v1.Catalog/RetireParts": (
        pb.RetirePartsResponse,
        pb.RetirePartsRequest(skus=["NO-SUCH-PART"]),
    ),
    "/partmatch.v1.Catalog/GetPart": (pb.Part, pb.GetPartRequest(sku="ALT")),
    "/partmatch.v1.Catalog/ListParts": (pb.ListPartsResponse, pb.ListPartsRequest(page_size=2)),
    "/partmatch.v1.Review/ListPending": (pb.ListPendingResponse, pb.ListPendingRequest()),
    "/partmatch.v1.Review/GetReview": (pb.ReviewItem, pb.GetReviewRequest(id="nope")),
    "/partmatch.v1.Review/ResolveReview": (pb.ReviewItem, pb.ResolveReviewRequest(id="nope")),
    "/partmatch.v1.Feedback/ReportMapping": (
        pb.ReportMappingResponse,
        pb.ReportMappingRequest(text="alternator", sku="NO-SUCH-PART"),
    ),
    "/partmatch.v1.Admin/ReloadModel": (
        pb.ReloadModelResponse,
        pb.ReloadModelRequest(version="not-a-version"),
    ),
}
assert set(METHODS) == set(RULES), "a new RPC needs a fuzzer"
PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
AUTHORIZATION = st.one_of(
    PRINTABLE,
    st.builds(lambda s, t: s + t, st.sampled_from(("Bearer ", "bearer ", "Basic ", "")), PRINTABLE),
    # Near misses of the real token: cut, extended, changed case, other schemes and spacing.
    st.builds(
        lambda pre, cut, post: pre + TESTER_TOKEN[:cut] + post,
        st.sampled_from(("Bearer ", "Bearer  ", "BEARER ", "Bearer\t", "Token ", "")),
        st.integers(0, len(TESTER_TOKEN)),
        st.sampled_from(("", " ", "x", "0", TESTER_TOKEN)),
    ),
)


@FUZZ
@given(method=st.sampled_from(sorted(METHODS)), authorization=AUTHORIZATION)
def test_fuzz_authorization(fuzzed: Fuzzed, method: str, authorization: str) -> None:
    """Any header value: a token that is not a known one (after the scheme and spaces are
    taken off) never gets past the door of a protected RPC."""
    response_type, request = METHODS[method]
    call = fuzzed.raw.unary_unary(
        method,
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=response_type.FromString,
    )
    try:
        call(request, metadata=(("authorization", authorization),), timeout=TIMEOUT_S)
        code = S.OK
    except grpc.RpcError as error:
        assert isinstance(error, grpc.Call)
        code, details = error.code(), error.details() or ""
        if (code, details) == CLIENT_REFUSED_METADATA:
            # grpcio will not send a header value HTTP/2 forbids (a tab): nothing was sent.
            tally("authorization", "client refused the header")
            return
        assert code in REFUSALS, f"{method} answered {code.name}: {details}"
        assert details.strip()
    tally("authorization", code.name)
    known = bearer_token([("authorization", authorization)]) == TESTER_TOKEN
    if not known and method not in (
        "/partmatch.v1.Matcher/Match",
        "/partmatch.v1.Matcher/MatchBatch",
    ):
        assert code == S.UNAUTHENTICATED, (method, authorization, code)
    still_serving(fuzzed, HEALTH_EVERY, "authorization")


def corrupted(method: str) -> st.SearchStrategy[bytes]:
    """Random bytes, and the method's own harmless request truncated, with a byte changed,
    or with a string field that is not UTF-8."""
    valid = METHODS[method][1].SerializeToString()
    return st.one_of(
        st.binary(max_size=64),
        st.builds(lambda n: valid[:n], st.integers(0, max(0, len(valid) - 1))),
        st.builds(
            lambda i, b: (
                valid[: i % max(1, len(valid))] + bytes([b]) + valid[i % max(1, len(valid)) + 1 :]
            ),
            st.integers(0, 100),
            st.integers(0, 255),
        ),
        st.builds(
            lambda junk: b"\x0a" + bytes([len(junk)]) + junk,
            st.binary(min_size=1, max_size=20).map(lambda b: b"\xff" + b),
        ),
        st.sampled_from((b"\x0a\xff\xff\xff\xff\x0f", b"\x08" + b"\xff" * 11, b"\xff" * 16)),
    )


@FUZZ
@given(data=st.data())
def test_fuzz_malformed_protobuf(fuzzed: Fuzzed, data: st.DataObject) -> None:
    method = data.draw(st.sampled_from(sorted(METHODS)), "method")
    payload = data.draw(corrupted(method), "payload")
    if method.endswith("/ReloadModel"):
        # Bytes that decode to an existing version would start a reload: none exists.
        try:
            version = pb.ReloadModelRequest.FromString(payload).version
        except Exception:
            version = "(undecodable)"
        assert version not in fuzzed.versions
    # No serializers: bytes both ways.
    call = fuzzed.channel.unary_unary(method, request_serializer=None, response_deserializer=None)
    try:
        call(payload, timeout=TIMEOUT_S)
        tally("malformed protobuf", "OK")
    except grpc.RpcError as error:
        assert isinstance(error, grpc.Call)
        code, details = error.code(), error.details() or ""
        if (code, details) == UNDECODABLE:
            tally("malformed protobuf", "INTERNAL (grpcio: Exception deserializing request!)")
        else:
            tally("malformed protobuf", code.name)
            assert code in REFUSALS, f"{method} answered {code.name} to {payload!r}: {details}"
            assert details.strip()
    still_serving(fuzzed, HEALTH_EVERY, "malformed protobuf")


# -- What the fuzzers found -----------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


FOUND: list[tuple[str, Callable[[grpc.Channel], object], grpc.StatusCode]] = [
    # A version name too long to be a file name: the registry's check reached the file
    # system (ENAMETOOLONG) and answered INTERNAL.
    (
        "reload v + 300 digits",
        lambda ch: pb_grpc.AdminStub(ch).ReloadModel(
            pb.ReloadModelRequest(version="v" + "1" * 300), timeout=TIMEOUT_S
        ),
        S.INVALID_ARGUMENT,
    ),
    # Digits of other scripts matched \d and went looking in the registry.
    (
        "reload v + Arabic-Indic digits",
        lambda ch: pb_grpc.AdminStub(ch).ReloadModel(
            pb.ReloadModelRequest(version="v\u0661\u0662\u0663\u0664"), timeout=TIMEOUT_S
        ),
        S.INVALID_ARGUMENT,
    ),
    # Review page tokens: deeply nested JSON (RecursionError) and an integer too large for a
    # float (OverflowError) were INTERNAL.
    (
        "ListPending nested token",
        lambda ch: pb_grpc.ReviewStub(ch).ListPending(
            pb.ListPendingRequest(page_token=_b64(b"[" * 5000)), timeout=TIMEOUT_S
        ),
        S.INVALID_ARGUMENT,
    ),
    (
        "ListPending huge-integer token",
        lambda ch: pb_grpc.ReviewStub(ch).ListPending(
            pb.ListPendingRequest(page_token=_b64(b"[1" + b"0" * 400 + b', 1, "x"]')),
            timeout=TIMEOUT_S,
        ),
        S.INVALID_ARGUMENT,
    ),
    # Refusals quoted the whole input back; past 16 KiB of trailers the client dropped the
    # answer and saw RESOURCE_EXHAUSTED instead of NOT_FOUND or INVALID_ARGUMENT.
    (
        "GetReview 20k id",
        lambda ch: pb_grpc.ReviewStub(ch).GetReview(
            pb.GetReviewRequest(id="x" * 20_000), timeout=TIMEOUT_S
        ),
        S.NOT_FOUND,
    ),
    (
        "ResolveReview 20k id",
        lambda ch: pb_grpc.ReviewStub(ch).ResolveReview(
            pb.ResolveReviewRequest(id="x" * 20_000, names_no_part=True, reviewer="a"),
            timeout=TIMEOUT_S,
        ),
        S.NOT_FOUND,
    ),
    (
        "ListPending 20k token",
        lambda ch: pb_grpc.ReviewStub(ch).ListPending(
            pb.ListPendingRequest(page_token="x" * 20_000), timeout=TIMEOUT_S
        ),
        S.INVALID_ARGUMENT,
    ),
    (
        "ListParts 20k token",
        lambda ch: pb_grpc.CatalogStub(ch).ListParts(
            pb.ListPartsRequest(page_token="x" * 20_000), timeout=TIMEOUT_S
        ),
        S.INVALID_ARGUMENT,
    ),
]


@pytest.mark.parametrize(("name", "call", "expected"), FOUND, ids=[f[0] for f in FOUND])
def test_what_the_fuzzers_found(
    fuzzed: Fuzzed,
    name: str,
    call: Callable[[grpc.Channel], object],
    expected: grpc.StatusCode,
) -> None:
    try:
        call(fuzzed.channel)
    except grpc.RpcError as error:
        assert isinstance(error, grpc.Call)
        assert error.code() == expected, (name, error.code(), error.details())
        assert 0 < len(error.details() or "") < 1000
    else:
        raise AssertionError(f"{name}: answered")


# -- The count -----------------------------------------------------------------------------

TARGETS = (
    "Matcher.Match",
    "Matcher.MatchBatch",
    "Catalog.UpsertParts",
    "Catalog.RetireParts",
    "Catalog.GetPart",
    "Catalog.ListParts",
    "Review.ListPending",
    "Review.GetReview",
    "Review.ResolveReview",
    "Feedback.ReportMapping",
    "Admin.ReloadModel",
    "authorization",
    "malformed protobuf",
)


def test_every_fuzzer_ran_and_the_server_still_answers(
    fuzzed: Fuzzed, capsys: pytest.CaptureFixture[str]
) -> None:
    """Last in the module: each fuzzer tried at least half its examples (one that silently
    generates nothing fails here), and a normal Match is still answered."""
    still_serving(fuzzed)
    with capsys.disabled():
        print("\n" + tally.report("inputs tried per RPC"))
    short = {t: tally.counts[t] for t in TARGETS if tally.counts[t] < FUZZ_EXAMPLES // 2}
    assert not short, f"fuzzers that tried too few inputs: {short}"
