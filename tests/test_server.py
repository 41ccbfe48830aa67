"""The gRPC API over a real server on localhost: matching, catalog calls, errors, health."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from matcher.app import build_matcher
from matcher.catalog import Part
from matcher.catalog_store import SqliteCatalogStore
from matcher.channel import authorized
from matcher.config import Settings
from matcher.encoder import Encoder
from matcher.examples import Example
from matcher.server import MatcherHolder, create_server
from tests.conftest import TESTER_TOKEN

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def channel(
    settings: Settings, encoder: Encoder, parts: list[Part], history: list[Example]
) -> Iterator[grpc.Channel]:
    store = SqliteCatalogStore(settings.catalog_db)
    store.replace_all(parts, history)
    holder = MatcherHolder(build_matcher(settings, parts, history, encoder=encoder))
    server, port = create_server(settings, holder, store)
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield authorized(channel, TESTER_TOKEN)
    server.stop(None)
    store.close()


def code_of(call: object) -> grpc.StatusCode:
    assert isinstance(call, grpc.RpcError)
    status: grpc.StatusCode = call.code()  # type: ignore[attr-defined]
    return status


def expect_error(function: object, request: object, code: grpc.StatusCode, message: str) -> None:
    with pytest.raises(grpc.RpcError) as error:
        function(request, timeout=30)  # type: ignore[operator]
    assert code_of(error.value) == code
    assert message in error.value.details()  # type: ignore[attr-defined]


def test_match_and_batch(channel: grpc.Channel) -> None:
    stub = pb_grpc.MatcherStub(channel)
    response = stub.Match(pb.MatchRequest(text="bonnet latch", top_k=3), timeout=30)
    assert response.candidates[0].sku == "HOOD-L"
    assert response.candidates[0].name == "hood latch"
    assert len(response.candidates) == 3
    assert 0 < response.candidates[0].confidence <= 1
    assert "fuzzy" in response.candidates[0].signals
    assert response.decision in (pb.AUTO_ACCEPT, pb.NEEDS_REVIEW)
    assert response.request_id and response.model_version and not response.degraded

    batch = stub.MatchBatch(
        pb.MatchBatchRequest(
            # The longer text first: a batch is encoded shortest first, answered in order.
            requests=[pb.MatchRequest(text="pads 04465-33471"), pb.MatchRequest(text="alternater")]
        ),
        timeout=30,
    )
    assert [r.candidates[0].sku for r in batch.responses] == ["BRK-F", "ALT"]
    assert batch.responses[0].decision == pb.AUTO_ACCEPT


def test_bad_match_requests(channel: grpc.Channel) -> None:
    stub = pb_grpc.MatcherStub(channel)
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    expect_error(stub.Match, pb.MatchRequest(text="  "), invalid, "text must not be empty")
    expect_error(stub.Match, pb.MatchRequest(text="x" * 5000), invalid, "limit is 1000")
    expect_error(stub.Match, pb.MatchRequest(text="pads", top_k=-3), invalid, "top_k")
    bad_batch = pb.MatchBatchRequest(
        requests=[pb.MatchRequest(text="pads"), pb.MatchRequest(text="")]
    )
    expect_error(stub.MatchBatch, bad_batch, invalid, "requests[1]: text must not be empty")


def test_catalog_upsert_retire_get_list(channel: grpc.Channel, settings: Settings) -> None:
    catalog = pb_grpc.CatalogStub(channel)
    matcher = pb_grpc.MatcherStub(channel)
    turbo = pb.Part(sku="TURBO", name="turbocharger", aliases=["turbo"], attributes={"a": "b"})
    assert catalog.UpsertParts(pb.UpsertPartsRequest(parts=[turbo]), timeout=30).upserted == 1
    assert matcher.Match(pb.MatchRequest(text="turbo charger"), timeout=30).candidates[0].sku == (
        "TURBO"
    )
    got = catalog.GetPart(pb.GetPartRequest(sku="TURBO"), timeout=30)
    assert (got.name, list(got.aliases), got.active) == ("turbocharger", ["turbo"], True)

    catalog.RetireParts(pb.RetirePartsRequest(skus=["TURBO"]), timeout=30)
    answer = matcher.Match(pb.MatchRequest(text="turbo charger", top_k=50), timeout=30)
    assert "TURBO" not in [c.sku for c in answer.candidates]
    assert catalog.GetPart(pb.GetPartRequest(sku="TURBO"), timeout=30).active is False
    # Durable: the store the server restarts from has the change.
    store = SqliteCatalogStore(settings.catalog_db)
    retired = store.get("TURBO")
    assert retired is not None and not retired.active
    store.close()

    skus: list[str] = []
    token = ""
    while True:
        page = catalog.ListParts(pb.ListPartsRequest(page_size=5, page_token=token), timeout=30)
        skus += [p.sku for p in page.parts]
        token = page.next_page_token
        if not token:
            break
    assert skus == sorted(skus) and len(skus) == 12 and "TURBO" not in skus
    everything = catalog.ListParts(pb.ListPartsRequest(include_retired=True), timeout=30)
    assert "TURBO" in [p.sku for p in everything.parts]


def test_bad_catalog_calls_change_nothing(channel: grpc.Channel) -> None:
    catalog = pb_grpc.CatalogStub(channel)
    invalid, missing = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
    good = pb.Part(sku="NEW1", name="new part")
    expect_error(
        catalog.UpsertParts,
        pb.UpsertPartsRequest(parts=[good, pb.Part(sku="NEW2", name="")]),
        invalid,
        "parts[1]: part 'NEW2' needs a non-empty 'name'",
    )
    expect_error(
        catalog.UpsertParts,
        pb.UpsertPartsRequest(parts=[good, good]),
        invalid,
        "duplicate sku 'NEW1'",
    )
    expect_error(catalog.GetPart, pb.GetPartRequest(sku="NEW1"), missing, "NEW1")
    expect_error(
        catalog.RetireParts,
        pb.RetirePartsRequest(skus=["ALT", "NOPE"]),
        missing,
        "unknown sku(s): NOPE",
    )
    assert catalog.GetPart(pb.GetPartRequest(sku="ALT"), timeout=30).active  # not half-retired
    expect_error(catalog.UpsertParts, pb.UpsertPartsRequest(), invalid, "parts must not be empty")
    expect_error(catalog.ListParts, pb.ListPartsRequest(page_size=5000), invalid, "page_size")
    expect_error(catalog.ListParts, pb.ListPartsRequest(page_token="%%%"), invalid, "page_token")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.slow
def test_real_server_process(tmp_path: Path, parts: list[Part]) -> None:
    """`partmatch index` then `partmatch serve` as processes; health, reflection and Match."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "catalog.jsonl").write_text("\n".join(json.dumps(p.to_dict()) for p in parts))
    (data / "history.csv").write_text("text,sku\nthe round thing you steer with,STEER\n")
    state = tmp_path / "state"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cli = [sys.executable, "-m", "cli"]
    subprocess.run([*cli, "index", "--data", str(data), "--state", str(state)], check=True, env=env)
    address = f"127.0.0.1:{free_port()}"
    server = subprocess.Popen(
        [*cli, "serve", "--state", str(state), "--address", address],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with grpc.insecure_channel(address) as channel:
            grpc.channel_ready_future(channel).result(timeout=300)
            health = health_pb2_grpc.HealthStub(channel)
            for service in ("", "partmatch.v1.Matcher", "partmatch.v1.Catalog"):
                status = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=30)
                assert status.status == health_pb2.HealthCheckResponse.SERVING
            reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
            answers = reflection.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=30
            )
            names = {s.name for a in answers for s in a.list_services_response.service}
            assert {
                "partmatch.v1.Matcher",
                "partmatch.v1.Catalog",
                "grpc.health.v1.Health",
            } <= names
            response = pb_grpc.MatcherStub(channel).Match(
                pb.MatchRequest(text="the round thing you steer with"), timeout=30
            )
            assert response.candidates[0].sku == "STEER"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert "partmatch serving on" in output
