"""Who may call what, over a real server on localhost: every RPC against every kind of caller,
the writes an anonymous caller once could make, and tokens kept out of the log."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from matcher.access import RULES, TokenTable, rule_for
from matcher.config import ConfigError, Settings
from matcher.encoder import Encoder
from matcher.principals import parse_entries
from tests.serving import Serving, code_and_details, serving

TOKENS = {
    "shop": "shop-token-0123456789",
    "feed": "feed-token-0123456789",
    "alice": "alice-token-012345678",
    "root": "root-token-0123456789",
}
CALLERS = (
    f"shop:storefront:{TOKENS['shop']},feed:catalog:{TOKENS['feed']},"
    f"alice:staff:{TOKENS['alice']},root:admin:{TOKENS['root']}"
)
DENIED = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
# Match is open by default, whatever token comes with it.
EVERYONE = frozenset({"shop", "feed", "alice", "root", "anonymous", "forged", "near-miss", "basic"})

# One harmless request per RPC: allowed callers get an answer or a refusal of the request
# itself (NOT_FOUND, INVALID_ARGUMENT, ...), never a change.
Call = Callable[[grpc.Channel, tuple[tuple[str, str], ...]], object]
CALLS: dict[str, tuple[Call, frozenset[str]]] = {
    "Matcher/Match": (
        lambda ch, md: pb_grpc.MatcherStub(ch).Match(
            pb.MatchRequest(text="bonnet latch"), metadata=md, timeout=30
        ),
        EVERYONE,
    ),
    "Matcher/MatchBatch": (
        lambda ch, md: pb_grpc.MatcherStub(ch).MatchBatch(
            pb.MatchBatchRequest(requests=[pb.MatchRequest(text="alternator")]),
            metadata=md,
            timeout=30,
        ),
        EVERYONE,
    ),
    "Catalog/UpsertParts": (
        lambda ch, md: pb_grpc.CatalogStub(ch).UpsertParts(
            pb.UpsertPartsRequest(), metadata=md, timeout=30
        ),
        frozenset({"feed"}),
    ),
    "Catalog/RetireParts": (
        lambda ch, md: pb_grpc.CatalogStub(ch).RetireParts(
            pb.RetirePartsRequest(skus=["NO-SUCH-PART"]), metadata=md, timeout=30
        ),
        frozenset({"feed"}),
    ),
    "Catalog/GetPart": (
        lambda ch, md: pb_grpc.CatalogStub(ch).GetPart(
            pb.GetPartRequest(sku="ALT"), metadata=md, timeout=30
        ),
        frozenset({"shop", "feed", "alice", "root"}),
    ),
    "Catalog/ListParts": (
        lambda ch, md: pb_grpc.CatalogStub(ch).ListParts(
            pb.ListPartsRequest(page_size=2), metadata=md, timeout=30
        ),
        frozenset({"shop", "feed", "alice", "root"}),
    ),
    "Review/ListPending": (
        lambda ch, md: pb_grpc.ReviewStub(ch).ListPending(
            pb.ListPendingRequest(), metadata=md, timeout=30
        ),
        frozenset({"alice"}),
    ),
    "Review/GetReview": (
        lambda ch, md: pb_grpc.ReviewStub(ch).GetReview(
            pb.GetReviewRequest(id="nope"), metadata=md, timeout=30
        ),
        frozenset({"alice"}),
    ),
    "Review/ResolveReview": (
        lambda ch, md: pb_grpc.ReviewStub(ch).ResolveReview(
            pb.ResolveReviewRequest(), metadata=md, timeout=30
        ),
        frozenset({"alice"}),
    ),
    "Feedback/ReportMapping": (
        lambda ch, md: pb_grpc.FeedbackStub(ch).ReportMapping(
            pb.ReportMappingRequest(), metadata=md, timeout=30
        ),
        frozenset({"shop"}),
    ),
    "Admin/ReloadModel": (
        lambda ch, md: pb_grpc.AdminStub(ch).ReloadModel(
            pb.ReloadModelRequest(version="v9999"), metadata=md, timeout=30
        ),
        frozenset({"root"}),
    ),
}


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


@pytest.fixture
def server(tmp_path: Path, encoder: Encoder) -> Iterator[Serving]:
    with serving(tmp_path, encoder, tokens=CALLERS) as running:
        yield running


def test_every_rpc_of_the_api_has_a_rule_and_a_test() -> None:
    methods = {
        f"/{service.full_name}/{method.name}"
        for service in pb.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    assert methods == set(RULES)
    assert {f"/partmatch.v1.{name}" for name in CALLS} == methods
    # An RPC nobody wrote a rule for is refused to everyone, not open.
    assert not rule_for("/partmatch.v1.Admin/DropEverything", False).open
    assert not rule_for("/partmatch.v1.Admin/DropEverything", False).roles


def test_each_rpc_answers_only_its_roles(server: Serving) -> None:
    callers = {
        "anonymous": (),
        "forged": bearer("forged-token-0123456789"),
        "near-miss": bearer(TOKENS["root"][:-1] + "x"),
        "basic": (("authorization", f"Basic {TOKENS['root']}"),),
        **{name: bearer(token) for name, token in TOKENS.items()},
    }
    refused = 0
    with grpc.insecure_channel(server.address) as channel:
        for rpc, (call, allowed) in CALLS.items():
            for name, metadata in callers.items():
                code, details = code_and_details_or_ok(lambda: call(channel, metadata))  # noqa: B023
                if name in allowed:
                    assert code not in DENIED, (rpc, name, details)
                elif name in TOKENS:
                    assert code == grpc.StatusCode.PERMISSION_DENIED, (rpc, name, code)
                    assert name in details and rpc in details
                    refused += 1
                else:
                    assert code == grpc.StatusCode.UNAUTHENTICATED, (rpc, name, code)
                    refused += 1
    assert refused == 57  # 9 guarded RPCs × the callers they refuse


def code_and_details_or_ok(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    try:
        call()
    except grpc.RpcError as error:
        assert isinstance(error, grpc.Call)
        return error.code(), error.details() or ""
    return grpc.StatusCode.OK, ""


def test_anonymous_writes_change_nothing(server: Serving) -> None:
    """What anyone who reached the port could do before: each is refused and undone by no one,
    because nothing happened."""
    parts_before = server.store.parts()
    examples_before = server.store.examples()
    with grpc.insecure_channel(server.address) as channel:
        catalog = pb_grpc.CatalogStub(channel)
        attacks: list[Callable[[], object]] = [
            lambda: catalog.RetireParts(pb.RetirePartsRequest(skus=["ALT"]), timeout=30),
            lambda: catalog.UpsertParts(
                pb.UpsertPartsRequest(parts=[pb.Part(sku="ALT", name="renamed")]), timeout=30
            ),
            *[
                lambda: pb_grpc.FeedbackStub(channel).ReportMapping(
                    pb.ReportMappingRequest(text="bonnet latch", sku="ALT"), timeout=30
                )
            ]
            * 3,
            lambda: pb_grpc.AdminStub(channel).ReloadModel(pb.ReloadModelRequest(), timeout=30),
        ]
        for attack in attacks:
            assert code_and_details(attack)[0] == grpc.StatusCode.UNAUTHENTICATED
        top = pb_grpc.MatcherStub(channel).Match(pb.MatchRequest(text="alternator"), timeout=30)
    assert top.candidates[0].sku == "ALT"
    assert server.store.parts() == parts_before
    assert server.store.examples() == examples_before


def test_match_can_require_a_storefront_token(tmp_path: Path, encoder: Encoder) -> None:
    with (
        serving(tmp_path, encoder, tokens=CALLERS, match_requires_token=True) as server,
        grpc.insecure_channel(server.address) as channel,
    ):
        stub = pb_grpc.MatcherStub(channel)
        request = pb.MatchRequest(text="alternator")
        assert (
            code_and_details(lambda: stub.Match(request, timeout=30))[0]
            == grpc.StatusCode.UNAUTHENTICATED
        )
        code, _ = code_and_details(
            lambda: stub.Match(request, metadata=bearer(TOKENS["feed"]), timeout=30)
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED
        answer = stub.Match(request, metadata=bearer(TOKENS["shop"]), timeout=30)
        assert answer.candidates[0].sku == "ALT"


def test_tokens_never_reach_the_log(server: Serving, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with grpc.insecure_channel(server.address) as channel:
        for call, _ in CALLS.values():
            for token in (*TOKENS.values(), "guessed-token-0123456789"):
                code_and_details_or_ok(lambda: call(channel, bearer(token)))  # noqa: B023
    assert "refused" in caplog.text  # the refusals were logged, by caller name
    for token in (*TOKENS.values(), "guessed-token-0123456789"):
        assert token not in caplog.text


def test_the_token_table_finds_exactly_its_callers() -> None:
    table = TokenTable(parse_entries(CALLERS.split(","), "test"))
    assert len(table) == 4
    for name, token in TOKENS.items():
        found = table.find(token)
        assert found is not None and found.name == name
        assert token not in repr(found)
    assert table.find(TOKENS["root"] + "x") is None
    assert table.find("") is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PARTMATCH_TOKENS": "shop:wizard:shop-token-0123456789"}, "unknown: wizard"),
        ({"PARTMATCH_TOKENS": "shop:storefront:short"}, "at least 16"),
        ({"PARTMATCH_TOKENS": "shop storefront token"}, "expected name:role"),
        (
            {
                "PARTMATCH_TOKENS": "a:storefront:same-token-0123456789,"
                "b:admin:same-token-0123456789"
            },
            "another caller has",
        ),
        (
            {
                "PARTMATCH_TOKENS": "alice:admin:alice-admin-0123456789",
                "PARTMATCH_STAFF_TOKENS": "alice:alice-staff-0123456789",
            },
            "configured twice",
        ),
        ({"PARTMATCH_TOKENS_FILE": "/no/such/file"}, "PARTMATCH_TOKENS_FILE"),
    ],
)
def test_a_bad_caller_entry_stops_the_start(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env=env)


def test_callers_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "callers"
    path.write_text(
        "# the storefront\nshop:storefront:shop-token-0123456789\n\n"
        "root:admin+catalog:root-token-0123456789\n"
    )
    settings = Settings.from_env(
        env={"PARTMATCH_TOKENS_FILE": str(path), "PARTMATCH_STAFF_TOKENS": CALLERS_STAFF}
    )
    assert set(settings.staff) == {"alice"}
    table = TokenTable(parse_entries(path.read_text().splitlines(), str(path)))
    root = table.find("root-token-0123456789")
    assert root is not None and root.roles == {"admin", "catalog"}


CALLERS_STAFF = "alice:alice-token-012345678"
